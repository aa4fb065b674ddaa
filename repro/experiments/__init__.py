"""Per-table experiment drivers: data -> method -> training loop -> metrics -> rows, called by the notebooks."""
