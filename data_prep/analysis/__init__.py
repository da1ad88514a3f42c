"""Science reports on campaigns and datasets: J fits and labels, dataset cards, the settings study,
the bond-rule check. Imports data_prep.io, dataset and dft (it reads what they make)."""
