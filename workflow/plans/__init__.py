"""Plans: the canonical model, storing/listing/exporting, publishing, department groups."""
