//! `coded!`: an enum of codes stored in the database and sent by forms, each
//! with its Swedish label for the screen (GLOSSARY.md).

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
