"""The write side: record model, column maps, readers, validation, the corpus generator and the CLI."""
