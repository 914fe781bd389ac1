"""The browser upload page for large files from the web app."""
