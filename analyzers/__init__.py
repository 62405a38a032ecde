"""Text analysis shared by indexing and querying: normalisation, names, tokens, pinyin and codes."""
