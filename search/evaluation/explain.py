"""``magvox explain``: where a trained network looks in the spin density, atom by atom.

    source = predict.search_model("default-tpe")            # or predict.file_model("model.pt")
    result = explain(source, "data/cgt_te.zarr", ["Cr2Ge2Te6"], Path("explain"))
    print(result.text())

For each composite (``models.explain`` has the method and its units), into ``out/<composite>/``:

- ``attribution.CHGCAR``: the Integrated Gradients map on the training grid with the crystal
  structure, in the VASP convention (values x N_grid: the sum of the values over the grid divided
  by NGX NGY NGZ is the total attribution, as for a CHGCAR's electron count); VESTA and pymatgen
  open it;
- ``attribution.cube``: the same map as a density, attribution per A^3 (its integral is the
  total);
- ``density.CHGCAR``: the input magnetization density m (uB/A^3) of the first input
  configuration, as the network read it;
- ``sites.csv``: one row per atom (species, role A1/A2/B/X, the attribution summed over its
  region, its |sum|, its share of the total |attribution|, the site's moment (uB), the change of
  the output when the site's region is set to the baseline (occlusion), and the share the same
  network with re-initialised weights gives it), then interstitial and vacuum;
- ``planes.png``: density and attribution in the plane of the A atoms and of one X layer.

``explain.json`` beside them holds every composite's summary (output, baseline output,
completeness residual, Spearman rank correlation with the randomised network's map, shares per
role of the trained network, of the randomised one and of |m|) and their mean.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from models import explain as xp
from models.predict import Refused
from models.saved import load_saved
from search.evaluation.predict import ModelSource, built_source
from search.tracking import client as tracking
from search.tracking.report import BEST_MODEL, train_grid
from search.tune.defaults import EXPLAIN_STEPS
from search.tune.state import SearchRecord

ROLE_GROUPS = ("A", "B", "X", "interstitial", "vacuum")


class Subset:
    """The dataset API (``.index``, ``.labels``, ``.spin``, ``.train_grid``,
    ``.test_composites``) over some composites of ``ds`` only: explaining three composites
    loads three densities."""

    def __init__(self, ds: Any, composites: list[str]) -> None:
        keep = set(composites)
        self._ds = ds
        self.index = ds.index[ds.index["composite"].isin(keep)].reset_index(drop=True)
        labels = ds.labels
        if "composite" not in labels.columns:
            labels = labels.reset_index()
        self.labels = labels[labels["composite"].isin(keep)].reset_index(drop=True)
        self.train_grid = tuple(ds.train_grid)
        from models.data import test_composites

        self.test_composites = [c for c in test_composites(ds) if c in keep]

    def spin(self, sample_id: str, grid: str = "train") -> np.ndarray:
        return self._ds.spin(sample_id, grid=grid)


@dataclass
class CompositeSummary:
    """One composite's explanation in numbers (units: those of ``ExplainResult.unit``)."""

    composite: str
    output: float
    baseline_output: float
    attribution_sum: float
    completeness_residual: float
    spearman_randomized: float
    shares: dict[str, float]
    randomized_shares: dict[str, float]
    density_shares: dict[str, float]
    bridging_x: dict[str, Any]
    files: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class ExplainResult:
    """Every composite's summary, what was explained and the mean shares."""

    source: str
    target: str
    unit: str
    steps: int
    composites: list[CompositeSummary]
    skipped: dict[str, str]

    def mean_shares(self, which: str = "shares") -> dict[str, float]:
        """Mean over composites of a share dict (``shares``, ``randomized_shares``,
        ``density_shares``) per role group."""
        out = {}
        for g in ROLE_GROUPS:
            values = [getattr(c, which).get(g, np.nan) for c in self.composites]
            finite = [v for v in values if np.isfinite(v)]
            out[g] = float(np.mean(finite)) if finite else float("nan")
        return out

    def text(self) -> str:
        """A plain table: per composite output, residual, Spearman; mean shares per role."""
        lines = [f"explained: {self.source}; {self.target}, output in {self.unit}; Integrated "
                 f"Gradients, {self.steps} steps, zero-density baseline"]
        for c in self.composites:
            lines.append(f"  {c.composite:<14} f(x) {c.output:+.4f}  f(0) {c.baseline_output:+.4f}"
                         f"  sum of attributions {c.attribution_sum:+.4f}  completeness residual "
                         f"{c.completeness_residual:.2%}  Spearman vs randomized "
                         f"{c.spearman_randomized:+.2f}{'  ' + c.note if c.note else ''}")
        if self.composites:
            header = "  share of |attribution|   " + "  ".join(f"{g:>12}" for g in ROLE_GROUPS)
            lines.append(header)
            for label, which in (("trained network", "shares"),
                                 ("randomized network", "randomized_shares"),
                                 ("|m| itself", "density_shares")):
                shares = self.mean_shares(which)
                lines.append(f"  {label:<24}" + "  ".join(f"{shares[g]:>12.3f}"
                                                          for g in ROLE_GROUPS))
        for comp, why in self.skipped.items():
            lines.append(f"  skipped {comp}: {why}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with the mean shares and the text."""
        return {**asdict(self), "mean_shares": self.mean_shares(),
                "mean_randomized_shares": self.mean_shares("randomized_shares"),
                "mean_density_shares": self.mean_shares("density_shares"), "text": self.text()}


def output_unit(config: Any) -> str:
    """What the explained number is: log-odds of class 1, or the target's unit."""
    from models.predict import value_name

    if config.task == "class" and config.classify_by != "moment":
        return "log-odds of class 1 (FM)" if config.target == "ground_state" else \
            "log-odds of class 1"
    if config.classify_by == "moment":
        return "uB (the regressed moment)"
    return value_name(config.target).rsplit("_", 1)[-1]


def choose_composites(ds: Any, requested: list[str] | None, name: str) -> list[str]:
    """The composites to explain: ``requested`` (each must be in ``ds``), else the dataset's
    held-out test composites; Refused (one line) otherwise."""
    from models.data import test_composites

    present = set(ds.index["composite"])
    if requested:
        missing = [c for c in requested if c not in present]
        if missing:
            raise Refused(f"{name}: no composite {', '.join(missing)} (it has {len(present)}: "
                          f"{', '.join(sorted(present)[:4])}, ...)")
        return list(dict.fromkeys(requested))
    held_out = [c for c in test_composites(ds) if c in present]
    if not held_out:
        raise Refused(f"{name}: no held-out test composites to explain; name some with "
                      "--composites")
    return held_out


def voxel_moment(x: torch.Tensor, config: Any, volume_A3: float) -> np.ndarray:
    """(Nx, Ny, Nz) signed m of the first input configuration in uB per voxel, from one
    composite's network input x (C, Nx, Ny, Nz) in training units."""
    per = 2 if config.input_channels == "split" else 1
    m = (x[0] - x[1]) if per == 2 else x[0]
    m = m.double().cpu().numpy()
    if config.input_units == "density":  # uB/A^3 -> uB per voxel
        m = m * volume_A3 / m.size
    return m


def bridging_x(roles: list[str], lattice: np.ndarray, frac: np.ndarray, table: pd.DataFrame,
               bond_A: float = 3.3) -> dict[str, Any]:
    """Whether the X ligands bridging two A sites (an A-X-A exchange path: both A within
    ``bond_A``) carry more than their share: mean share per bridging X against per other X."""
    a_sites = [i for i, r in enumerate(roles) if r.startswith("A")]
    xs = [i for i, r in enumerate(roles) if r == "X"]
    shifts = np.array([[a, b, c] for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)])
    bridging = []
    for i in xs:
        near = 0
        for j in a_sites:
            d = frac[j] - frac[i]
            dist = np.linalg.norm((d - np.round(d) + shifts) @ lattice, axis=1)
            near += int((dist <= bond_A).sum())
        bridging.append(near >= 2)
    share = table.set_index("site")["share"]
    on = [float(share[i]) for i, b in zip(xs, bridging, strict=True) if b]
    off = [float(share[i]) for i, b in zip(xs, bridging, strict=True) if not b]
    return {"bridging": len(on), "other": len(off),
            "share_per_bridging_x": float(np.mean(on)) if on else None,
            "share_per_other_x": float(np.mean(off)) if off else None,
            "share_per_a": float(np.mean([share[i] for i in a_sites])) if a_sites else None}


def _structure(lattice: np.ndarray, species: list[str], frac: np.ndarray):
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(lattice), species, frac)


def write_maps(folder: Path, structure: Any, attribution: np.ndarray, m_voxel: np.ndarray,
               compact: bool = False) -> list[Path]:
    """attribution.CHGCAR, attribution.cube and density.CHGCAR (see the module docstring);
    ``compact``: attribution.CHGCAR.gz alone, 6 digits (pymatgen reads it; gunzip for VESTA)."""
    import gzip
    import shutil

    from pymatgen.io.common import VolumetricData

    from data_prep.io.chgcar import write_chgcar

    volume = float(structure.volume)
    n = attribution.size
    dv = volume / n
    formula = structure.composition.reduced_formula
    # write_chgcar stores density x V: density = a N / V gives a x N in the file
    attribution_file = write_chgcar(
        folder / "attribution.CHGCAR", structure, attribution * n / volume,
        title=f"{formula} attribution (values x NGX NGY NGZ; sum / N_grid = total attribution)",
        digits=6 if compact else 11)
    if compact:
        packed = folder / "attribution.CHGCAR.gz"
        with attribution_file.open("rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst)
        attribution_file.unlink()
        return [packed]
    files = [attribution_file,
             write_chgcar(folder / "density.CHGCAR", structure, m_voxel / dv,
                          title=f"{formula} magnetization m (uB/A^3)")]
    cube = folder / "attribution.cube"
    VolumetricData(structure, {"total": attribution / dv}).to_cube(str(cube),
                                                                   comment="attribution per A^3")
    files.append(cube)
    return files


def plane_picture(path: Path, m_voxel: np.ndarray, attribution: np.ndarray, roles: list[str],
                  frac: np.ndarray, composite: str) -> Path:
    """Density beside attribution in the A plane and in one X layer (slices at the atoms' c)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nz = m_voxel.shape[2]
    a_k = round(float(frac[roles.index("A1")][2]) * nz) % nz
    x_sites = [i for i, r in enumerate(roles) if r == "X"]
    x_k = round(float(frac[x_sites[0]][2]) * nz) % nz if x_sites else a_k
    fig, axes = plt.subplots(2, 2, figsize=(8, 7))
    for row, (label, k) in enumerate((("A plane", a_k), ("X plane", x_k))):
        for col, (name, data) in enumerate((("m (uB/voxel)", m_voxel),
                                            ("attribution", attribution))):
            sl = data[:, :, k].T
            lim = float(np.abs(sl).max()) or 1.0
            im = axes[row, col].imshow(sl, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
            axes[row, col].set_title(f"{label} (k = {k}): {name}", fontsize=9)
            axes[row, col].set_xlabel("a (grid)")
            axes[row, col].set_ylabel("b (grid)")
            fig.colorbar(im, ax=axes[row, col], shrink=0.8)
    fig.suptitle(composite)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def explain(source: Any, dataset: str | Path | Any, composites: list[str] | None, out: Path,
            *, steps: int = EXPLAIN_STEPS, device: torch.device | None = None,
            files: bool = True, compact: bool = False) -> ExplainResult:
    """Explain ``source``'s network (``search.evaluation.predict.ModelSource``) on ``composites`` of
    ``dataset`` (default: its held-out test composites); write the files under ``out``.
    Refused (one line) where the dataset does not fit the network or a composite is absent.
    ``files=False``: the numbers only; ``compact``: the maps as one attribution.CHGCAR.gz per
    composite (what a search logs on its parent run)."""
    from data_prep.dataset.site_info import row_structure
    from data_prep.dataset.store import open_dataset
    from data_prep.io.fileio import write_text_atomic
    from models.predict import prediction_inputs

    name = str(dataset)
    ds = open_dataset(dataset) if isinstance(dataset, str | Path) else dataset
    source, _ = built_source(source, ds, name)
    wanted = choose_composites(ds, composites, name)
    new = prediction_inputs(source.saved, Subset(ds, wanted), name, grid=source.grid,
                            device=device)
    saved, config = source.saved, source.saved.config
    model = saved.model.to(new.x.device).eval()
    randomized = xp.randomized_copy(model)
    rows = ds.index.set_index("sample_id")
    out.mkdir(parents=True, exist_ok=True)
    summaries, skipped = [], dict(new.skipped)
    for i, comp in enumerate(new.samples.composites):
        row = rows.loc[new.samples.sample_ids[i]]
        atoms = row_structure(row)
        if atoms is None:
            skipped[comp] = ("its run records no atoms (magvox prep, or data_prep."
                             "add_structures for an older store)")
            continue
        species, frac = atoms
        lattice = np.asarray(row["lattice_A"], dtype=np.float64).reshape(3, 3)
        x = new.x[i : i + 1]
        comp_enc = None if new.composition is None else new.composition[i]
        fn = xp.scalar_output(model, config, saved.target_scale, comp_enc)
        rfn = xp.scalar_output(randomized, config, saved.target_scale, comp_enc)
        attr, delta = xp.integrated_gradients(fn, x, steps)
        rattr, _ = xp.integrated_gradients(rfn, x, steps)
        with torch.no_grad():
            fx, f0 = float(fn(x)[0]), float(fn(torch.zeros_like(x))[0])
        amap = attr[0].sum(0).double().cpu().numpy()  # (Nx, Ny, Nz), summed over channels
        rmap = rattr[0].sum(0).double().cpu().numpy()
        regions = xp.site_regions(lattice, frac, new.samples.grid)
        roles = xp.site_roles(comp, list(species))
        m_voxel = voxel_moment(x[0], config, float(new.samples.volume_A3[i]))
        table = xp.site_table(amap, regions, list(species), roles, density=m_voxel)
        labels = [*range(len(species)), xp.INTERSTITIAL, xp.VACUUM]
        table["occlusion"] = xp.occlude_sites(fn, x, regions, labels)
        table["randomized_share"] = xp.site_table(rmap, regions, list(species), roles)["share"]
        table["density_share"] = xp.site_table(np.abs(m_voxel), regions, list(species),
                                               roles)["share"]
        change = fx - f0
        summary = CompositeSummary(
            comp, fx, f0, float(amap.sum()),
            float(abs(float(delta[0])) / max(abs(change), 1e-12)),
            xp.spearman(amap, rmap), xp.role_shares(table),
            xp.role_shares(table, "randomized_share"), xp.role_shares(table, "density_share"),
            bridging_x(roles, lattice, frac, table),
            note="" if np.abs(amap).sum() > 0 else "(the output does not depend on the input: "
                 "every attribution is 0, no shares)")
        if files:
            folder = out / comp
            folder.mkdir(parents=True, exist_ok=True)
            structure = _structure(lattice, list(species), frac)
            written = write_maps(folder, structure, amap, m_voxel, compact)
            written.append(write_text_atomic(folder / "sites.csv", table.to_csv(index=False)))
            written.append(plane_picture(folder / "planes.png", m_voxel, amap, roles, frac, comp))
            summary.files = [str(p) for p in written]
        summaries.append(summary)
    result = ExplainResult(source.description, config.target, output_unit(config), steps,
                           summaries, skipped)
    write_text_atomic(out / "explain.json", json.dumps(result.to_dict(), indent=1))
    write_text_atomic(out / "explain.txt", result.text() + "\n")
    return result


EXPLAIN = "explain"  # the parent run's folder of the end-of-search explanation
EXPLAINED_TAG = "magvox.explained_run"  # the trial run whose network explain/ holds


def explain_best(record: SearchRecord, mlf: Any, run: Any,
                 steps: int = 16) -> dict[str, float] | None:
    """Explain the best model (``best_model/model.pt`` of the parent run, trained by trial run
    ``run``) on the dataset's held-out test composites (``explain``) and log the tables,
    pictures, compact maps and explain.json under ``explain/`` of the parent run, the mean shares
    per role as metrics ``explain_share_<role>``. Once per best trial (an extended search whose
    best trial changed is explained again); None when already logged, or without a model or
    test composites."""
    logged = {a.path for a in mlf.list_artifacts(record.parent_run_id, EXPLAIN)}
    explained = mlf.get_run(record.parent_run_id).data.tags.get(EXPLAINED_TAG)
    if f"{EXPLAIN}/explain.json" in logged and explained in (None, run.info.run_id):
        return None
    if f"{BEST_MODEL}/model.pt" not in {a.path for a in mlf.list_artifacts(
            record.parent_run_id, BEST_MODEL)}:
        return None
    with tempfile.TemporaryDirectory(prefix="magvox-explain-") as tmp:
        path = Path(mlf.download_artifacts(record.parent_run_id, f"{BEST_MODEL}/model.pt", tmp))
        grid = train_grid(record)
        saved = load_saved(path, grid)
        source = ModelSource(saved, f"search {record.name}, best model", record, grid)
        out = Path(tmp) / EXPLAIN
        try:
            result = explain(source, record.dataset, None, out, steps=steps, compact=True)
        except Refused as exc:  # e.g. a dataset without test composites: say so, go on
            mlf.set_tag(record.parent_run_id, "magvox.explain", f"not explained: {exc}")
            return None
        mlf.log_artifacts(record.parent_run_id, str(out), EXPLAIN)
    shares = {f"explain_share_{k}": v for k, v in result.mean_shares().items()
              if v == v}  # NaN where no composite's output depends on its input
    tracking.log_metrics(mlf, record.parent_run_id, shares)
    mlf.set_tag(record.parent_run_id, EXPLAINED_TAG, run.info.run_id)
    return shares
