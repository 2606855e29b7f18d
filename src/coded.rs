//! `coded!`: an enum of codes stored in the database and sent by forms, each
//! with its Swedish label for the screen (GLOSSARY.md); free of sqlx, so the
//! domain can declare them. `stored_as_code!` reads and writes one as its code.

/// An enum of codes with Swedish labels: `ALL`, `code()`, `parse()`, `label()`.
macro_rules! coded {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The label for a stored code.
            pub fn label_of(code: &str) -> &'static str {
                Self::parse(code).map(Self::label).unwrap_or("–")
            }
        }
    };
}

/// Reads and writes an enum with `code()` and `parse()` as its `text` code, so
/// that a status or kind column is read into the enum, never compared as a
/// string (`status AS "status: PlanStatus"`). A code the enum does not know is
/// an error, not a default.
macro_rules! stored_as_code {
    ($name:ty) => {
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let code = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                <$name>::parse(code).ok_or_else(|| format!("unknown {} code {code:?}", stringify!($name)).into())
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.code(), buf)
            }
        }
    };
}
