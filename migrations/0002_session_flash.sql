-- One-time messages ("Användaren är skapad.") are kept with the session on
-- the server rather than in a cookie: the browser can neither forge them nor
-- carry names in them.
ALTER TABLE sessions ADD COLUMN flash text CHECK (length(flash) <= 500);
