"""The guard's pure core: rule packs and the checks they parameterise. No Django."""
