"""optirace's web server: FastAPI routes over core, the pages, the exports and the command line."""
