"""MLflow: the client helpers, the Tune callback, trial artifacts and filter pictures, reading a
search back (report, trials table, importance) and the UI. Imports models, data_prep and
search.tune's state and space modules."""
