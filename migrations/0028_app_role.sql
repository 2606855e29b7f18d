-- Least privilege in the database (issue 18, point 6). The tables belong to
-- the role that runs the migrations (the owner, DATABASE_OWNER_URL); the
-- server signs in as a member of `lotsen_app` (DATABASE_URL), which may read
-- and write the rows but owns nothing: it cannot drop or disable a trigger,
-- change a table, or touch the migrations' own table. On the append-only
-- tables it may only add rows: no UPDATE, DELETE or TRUNCATE, so even raw SQL
-- from a compromised app cannot change the logs, the journal or history.
--
-- `scripts/db-setup` creates the role (with a password for this machine); a
-- migrator that may create roles makes it here when it is missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lotsen_app') THEN
        CREATE ROLE lotsen_app NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO lotsen_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO lotsen_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO lotsen_app;
-- Tables and sequences the owner makes later are granted the same; a new
-- append-only table revokes UPDATE and DELETE in its own migration (a test
-- checks every table with a trigger that forbids them).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO lotsen_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO lotsen_app;

-- Append-only: rows are added, never changed or removed.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, access_log, journal_notes, relative_versions, report_freezes FROM lotsen_app;

-- The migrations' record is the owner's alone; the app may see how far it is.
DO $$
BEGIN
    IF to_regclass('_sqlx_migrations') IS NOT NULL THEN
        REVOKE ALL ON _sqlx_migrations FROM lotsen_app;
        GRANT SELECT ON _sqlx_migrations TO lotsen_app;
    END IF;
END
$$;
