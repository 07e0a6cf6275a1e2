"""The strategy's pure core: documents, rule compilation, the feature SQL, evaluation. No Django."""
