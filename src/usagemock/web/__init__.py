"""The web layer: a connexion app per API, auth, error bodies. Calls the domain, never the CLI."""
