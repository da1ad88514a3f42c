"""Format readers and writers: CHGCAR family, cube, POSCAR, VASP outputs, magvox_run.json, atomic
files. Imports only data_prep (top level: vocabulary, errors), numpy and pymatgen."""
