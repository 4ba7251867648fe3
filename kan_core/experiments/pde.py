"""A physics-informed Poisson solve with a KAN and an MLP: ∇²u = f on [−1, 1]², u = 0 on the border.

The KAN paper (arXiv:2404.19756, Sec. 3.4, Fig. 3.3) solves a 2-D Poisson equation with a KAN
[2, 10, 1], loss = α·(PDE residual at interior points) + (boundary error), α = 0.01, LBFGS, grid
extension 5 → 10 → 20, and reports a smaller error than MLPs with far more parameters. Its
example has u = sin(πx)·sin(πy²); this one uses u = sin(πx)·sin(πy) (f = −2π²·u), which has the
same structure and a closed-form source. The Laplacian is taken by autograd through the network
(second derivatives: the engine's spline backward is differentiable, see `engine.spline`).
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import torch

from kan_core.engine.mlp import MLP
from kan_core.engine.model import KAN
from kan_core.errors import ConfigError
from kan_core.experiments.common import Callback, Progress

ALPHA = 0.01  # the paper's weight of the interior residual against the boundary loss


def exact(x: torch.Tensor) -> torch.Tensor:
    """u(x, y) = sin(πx)·sin(πy) for points x (n, 2) -> (n,)."""
    return torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1])


def source(x: torch.Tensor) -> torch.Tensor:
    """f = ∇²u = −2π²·sin(πx)·sin(πy) for points x (n, 2) -> (n,)."""
    return -2 * math.pi**2 * exact(x)


def laplacian(fn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(u (n,), ∇²u (n,)) of `fn` mapping (n, 2) -> (n,) or (n, 1), by autograd (graph kept)."""
    x = x.detach().requires_grad_(True)
    u = fn(x).reshape(-1)
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    lap = torch.zeros_like(u)
    for i in range(x.shape[1]):
        (gi,) = torch.autograd.grad(g[:, i].sum(), x, create_graph=True)
        lap = lap + gi[:, i]
    return u, lap


def pde_loss(fn, interior: torch.Tensor, boundary: torch.Tensor, alpha: float = ALPHA) -> dict:
    """The physics-informed loss of `fn` on collocation points.

    Parameters
    ----------
    fn : callable
        The candidate solution, (n, 2) -> (n,) or (n, 1).
    interior : torch.Tensor, shape (m, 2)
        Points inside the square where ∇²u − f should vanish.
    boundary : torch.Tensor, shape (b, 2)
        Points on the border where u should be 0.
    alpha : float
        Weight of the residual term (the paper's α = 0.01).

    Returns
    -------
    dict
        total = α·mean(residual²) + mean(u_boundary²) (a tensor with its graph), and the two
        terms as floats: residual, boundary.
    """
    _, lap = laplacian(fn, interior)
    res = torch.mean((lap - source(interior)) ** 2)
    bnd = torch.mean(fn(boundary).reshape(-1) ** 2)
    return {"total": alpha * res + bnd, "residual": float(res.detach()), "boundary": float(bnd.detach())}


def collocation(n: int, dtype=torch.float32, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """An n × n mesh of [−1, 1]²: its inner points (interior) and the 4(n − 1) border points."""
    t = torch.linspace(-1, 1, n, dtype=dtype, device=device)
    gx, gy = torch.meshgrid(t, t, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    border = (pts.abs() == 1).any(1)
    return pts[~border], pts[border]


def relative_l2(fn, mesh: torch.Tensor) -> float:
    """‖u − u*‖₂ / ‖u*‖₂ on the mesh points (m, 2)."""
    with torch.no_grad():
        u, ref = fn(mesh).reshape(-1), exact(mesh)
        return float(torch.linalg.norm(u - ref) / torch.linalg.norm(ref))


class _Stopped(Exception):
    pass


def _solve(model, name: str, schedule, interior, boundary, mesh, progress: Progress, seconds) -> dict:
    """LBFGS on the PDE loss, phase by phase (a KAN refines its grid between phases)."""
    t0, history, steps = time.perf_counter(), [], 0
    status = "completed"
    for grid, n_steps in schedule:
        if grid is not None:
            pts = torch.cat([interior, boundary])
            model = model.refined(grid, pts) if model.initialized else model
            if not model.initialized:
                model.update_grid(pts, grid=grid)
                model.initialized.fill_(True)
        opt = torch.optim.LBFGS(
            model.parameters(), lr=1.0, max_iter=20, history_size=20, line_search_fn="strong_wolfe"
        )

        def closure(opt=opt, model=model) -> torch.Tensor:
            if progress.stopped:
                raise _Stopped
            opt.zero_grad(set_to_none=True)
            loss = pde_loss(model, interior, boundary)["total"]
            loss.backward()
            return loss

        for _ in range(n_steps):
            if progress.stopped or (seconds is not None and time.perf_counter() - t0 > seconds):
                status = "stopped" if progress.stopped else "out of time"
                break
            try:
                opt.step(closure)
            except _Stopped:
                status = "stopped"
                break
            steps += 1
            terms = pde_loss(model, interior, boundary)
            row = {
                "step": steps,
                "grid": grid,
                "loss": float(terms["total"].detach()),
                "rel_l2": relative_l2(model, mesh),
            }
            history.append(row)
            progress.report(family=name, **row)
            if not math.isfinite(row["loss"]):
                status = "diverged"
                break
        if status != "completed":
            break
    return {
        "model": model,
        "history": history,
        "steps": steps,
        "seconds": time.perf_counter() - t0,
        "status": status,
    }


def poisson(
    *,
    kan_widths=(2, 10, 1),
    grids=(5, 10),
    mlp_widths=(2, 32, 32, 1),
    steps: int = 50,
    points: int = 21,
    seconds: float | None = None,
    seed: int = 0,
    device: str = "cpu",
    callback: Callback | None = None,
    stop: threading.Event | None = None,
) -> dict:
    """Solve the Poisson problem with a KAN and an MLP; measure the error against the exact u.

    Parameters
    ----------
    kan_widths : sequence of int
        The KAN's widths (the paper's [2, 10, 1]).
    grids : sequence of int
        Grid sizes of the KAN, one LBFGS phase of `steps` steps each (grid extension between).
        The paper extends to 20; with 21 × 21 collocation points a grid of 20 has about one
        point per interval and fits the residual between points badly (measured: relative L2
        0.06 after 5 → 10 → 20 against 0.0036 after 5 → 10), hence G ≤ (points − 1) / 2.
    mlp_widths : sequence of int
        The SiLU MLP's widths; it gets the same total number of LBFGS steps in one phase.
    steps : int
        LBFGS steps (up to 20 evaluations each) per phase.
    points : int
        The collocation mesh is points × points on [−1, 1]² (interior + border, as pykan's
        example: 21).
    seconds : float, optional
        A wall-clock cap per model on top of the steps.
    seed : int
        Seeds both models' initial weights.
    device, callback, stop
        As in `compare`; callback metrics: family, step, grid, loss, rel_l2.

    Returns
    -------
    dict
        `kan`, `mlp`: {widths, params, rel_l2 (on a 101 × 101 mesh), seconds, steps, status,
        history [{step, grid, loss, rel_l2}], field (u on a 41 × 41 mesh)}; `exact` (the same
        mesh), `mesh` (its 41 coordinates), settings, `stopped`.

    Raises
    ------
    ConfigError
        For fewer than 5 mesh points per side, steps < 1, or no grid.
    """
    if points < 5 or steps < 1 or not grids or (seconds is not None and not seconds > 0):
        raise ConfigError("need points >= 5, steps >= 1, at least one grid and seconds > 0")
    progress = Progress(callback, stop)
    interior, boundary = collocation(points, device=device)
    mesh = torch.cat(collocation(101, device=device))
    t41 = torch.linspace(-1, 1, 41, device=device)
    g41 = torch.stack([m.reshape(-1) for m in torch.meshgrid(t41, t41, indexing="ij")], 1)
    out: dict = {
        "experiment": "pde",
        "problem": "∇²u = −2π²·sin(πx)·sin(πy) on [−1, 1]², u = 0 on the border",
        "alpha": ALPHA,
        "points": points,
        "seed": seed,
        "budget": {"lbfgs_steps_per_phase": steps, "grids": list(grids), "seconds": seconds},
        "threads": torch.get_num_threads(),
        "mesh": t41.tolist(),
        "exact": exact(g41).reshape(41, 41).tolist(),
    }
    runs = {
        "kan": (KAN(list(kan_widths), grid=grids[0], seed=seed, device=device), [(g, steps) for g in grids]),
        "mlp": (MLP(list(mlp_widths), seed=seed, device=device), [(None, steps * len(grids))]),
    }
    for name, (model, schedule) in runs.items():
        if progress.stopped:
            break
        run = _solve(model, name, schedule, interior, boundary, mesh, progress, seconds)
        model = run.pop("model")
        with torch.no_grad():
            field = model(g41).reshape(41, 41)
        out[name] = {
            "widths": list(kan_widths) if name == "kan" else list(mlp_widths),
            "params": model.n_params(),
            "rel_l2": relative_l2(model, mesh),
            **run,
            "field": field.tolist(),
        }
    out["stopped"] = progress.stopped
    return out


def error_field(result: dict, name: str) -> np.ndarray:
    """|u − u*| on the result's 41 × 41 mesh for model `name` ("kan" or "mlp")."""
    return np.abs(np.asarray(result[name]["field"]) - np.asarray(result["exact"]))
