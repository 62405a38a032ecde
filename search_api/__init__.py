"""The read side: FastAPI app, query understanding, retrieval and re-ranking, publication rules."""
