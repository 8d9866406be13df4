"""A third API, defined outside usagemock, to prove adding one needs no change under src/."""
