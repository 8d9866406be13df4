"""The web layer: connexion apps for each API, auth, error bodies. Calls the domain, never the CLI."""
