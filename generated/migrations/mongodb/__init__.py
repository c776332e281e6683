"""MongoDB migrations: `jadugar migrate` runs them on a mongodb URL."""
