"""What a search is worth and what it learned: nested cross-validation (assess), comparisons of
assessments, prediction on new composites, attribution maps. Imports search.tune, search.tracking,
models and data_prep."""
