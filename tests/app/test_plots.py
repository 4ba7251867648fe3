"""Figure builders: light figures, every active edge clickable, selections parsed safely."""

import torch

from app.plots import edge_from_points, loss_figure, network_figure
from kan_core import KAN


def test_network_figure_is_light_and_every_active_edge_is_clickable():
    model = KAN([4, 8, 8, 1], seed=0, device="cpu")
    model.layers[0].set_mask(0, 0, False)
    model.layers[1].set_symbolic(2, 3, "sin")
    X = torch.rand(200, 4)
    fig = network_figure(model, X, ["a", "b", "c", "d"], "y", selected=(1, 2, 3))
    assert len(fig.data) <= 14
    clicks = next(t for t in fig.data if t.name == "edges")
    ids = {tuple(c) for c in clicks.customdata}
    active = {(e["layer"], e["i"], e["j"]) for e in model.edges() if e["state"] != "pruned"}
    assert ids == active and (0, 0, 0) not in ids and len(ids) == 4 * 8 + 8 * 8 + 8 - 1
    assert clicks.marker.opacity == 0 and clicks.selected.marker.opacity == 0
    labels = [t for t in fig.data if t.mode == "text" and t.text and "sin" in t.text]
    assert labels, "snapped edges are labelled with their function"
    assert list(fig.data[-2].text[:4]) == ["a", "b", "c", "d"] and fig.data[-2].text[-1] == "y"


def test_edge_from_points_reads_customdata_and_ignores_junk():
    assert edge_from_points([{"customdata": [1, 2, 3, "x"]}]) == (1, 2, 3)
    assert edge_from_points(
        [{"curve_number": 0}, {"customdata": ["a", 1, 2]}, {"customdata": [0, 1, 0]}]
    ) == (0, 1, 0)
    assert edge_from_points([]) is None and edge_from_points(None) is None


def test_loss_figure_uses_a_log_axis_and_appends_a_running_job():
    done = {"step": [1, 2], "train": [1.0, 0.5], "val_step": [2], "val": [0.6]}
    live = {"step": [1], "train": [0.25], "val_step": [], "val": []}
    fig = loss_figure(done, live, offset=2)
    assert fig.layout.yaxis.type == "log"
    assert list(fig.data[0].x) == [1, 2, 3] and list(fig.data[0].y) == [1.0, 0.5, 0.25]


def test_pruned_hidden_nodes_are_not_drawn_and_input_groups_are_apart():
    from app.plots import edge_boxes

    model = KAN([3, 4, 1], seed=0, device="cpu")
    for i in range(3):
        model.layers[0].set_mask(i, 2, False)  # hidden node 2 loses every incoming edge
    X = torch.rand(50, 3)
    fig = network_figure(model, X, ["a", "b", "c"], "y")
    nodes = [t for t in fig.data if t.mode == "markers+text"][0]
    assert len(nodes.x) == 3 + 3 + 1  # 4 hidden nodes, one of them dead
    clickable = {tuple(c) for t in fig.data if t.customdata is not None for c in t.customdata}
    assert (1, 2, 0) not in clickable and (1, 1, 0) in clickable  # nor its edge out, still in the mask
    boxes = [b for b in edge_boxes(model) if b["edge"][0] == 0]
    by_input = [sorted(b["cx"] for b in boxes if b["edge"][1] == i) for i in range(3)]
    step = by_input[0][1] - by_input[0][0]
    assert by_input[1][0] - by_input[0][-1] > 1.4 * step  # a gap between one input's boxes and the next


def test_a_one_step_loss_chart_shows_a_point_and_log_ticks_in_full():
    fig = loss_figure({"step": [1], "train": [23000.0], "val_step": [1], "val": [25000.0]})
    assert all("markers" in t.mode for t in fig.data)  # one step: visible points, not an empty chart
    assert fig.layout.yaxis.minorloglabels == "complete" and fig.layout.yaxis.tickformat == "~s"  # 20k, 30k
    small = loss_figure({"step": [1, 2], "train": [0.5, 0.02], "val_step": [], "val": []})
    assert small.layout.yaxis.tickformat == ".3~g"  # 0.02, not "20m"


def test_a_log_space_loss_chart_says_its_errors_are_of_log_y():
    fig = loss_figure({"step": [1, 2], "train": [0.5, 0.02], "val_step": [], "val": []}, log_space=True)
    assert fig.layout.yaxis.title.text == "RMSE of log|target| (log space)"
    assert loss_figure({"step": [1], "train": [0.5]}).layout.yaxis.title.text == "RMSE (target units)"
