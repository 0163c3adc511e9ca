"""Where the boxes of a graph go: a small layered ("Sugiyama") layout, no Graphviz.

The steps are the textbook ones, each kept simple:

1. **Ranks.** Each box sits one rank below the lowest box that feeds it (the
   longest path from a source), so every arrow points down the page.
2. **Waypoints.** An arrow that skips ranks gets an invisible waypoint on each rank
   it crosses, so it can pass beside the boxes there instead of through them.
3. **Order.** Within each rank, boxes are sorted by the mean position of their
   neighbours in the rank above, then below (the barycenter heuristic), a few sweeps
   each way, keeping the order with the fewest crossing arrows.
4. **Position.** Each box moves as close as it can to the mean position of its
   neighbours while keeping its order and a gap to the next box: a least-squares
   problem with ordering constraints, solved exactly by pooling adjacent violators.

Sizes are in inches; the caller draws. Branches end up side by side.

>>> layout = layered_layout([(2.0, 1.0)] * 4, [(0, 1), (0, 2), (1, 3), (2, 3)], [0, 1, 1, 2])
>>> [layout.ranks[i] for i in range(4)]
[0, 1, 1, 2]
>>> left, right = sorted(layout.centers[1:3])
>>> left[1] == right[1] and right[0] - left[0] >= 2.0  # one rank, side by side
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

__all__ = ["Layout", "layered_layout"]

#: the space an arrow's waypoint takes in its rank (inches)
_WAYPOINT = 0.15


@dataclass
class Layout:
    """Box centers, arrow waypoints and the drawing's size (inches, y up).

    ``paths[i]`` runs from the edge of the source box to the edge of the target box
    of ``edges[i]``; ``back[i]`` marks an arrow that does not point down the ranks
    (a layer feeding itself, or a cycle through a shared layer): draw it curved.
    """

    centers: list[tuple[float, float]]
    ranks: list[int]
    paths: list[list[tuple[float, float]]] = field(default_factory=list)
    back: list[bool] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def _longest_path_ranks(count: int, edges: list[tuple[int, int]]) -> list[int] | None:
    """Rank = longest path from a source; None if the edges have a cycle."""
    succ: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for u, v in edges:
        if u != v:
            succ[u].append(v)
            indegree[v] += 1
    ranks = [0] * count
    ready = [i for i in range(count) if indegree[i] == 0]
    done = 0
    while ready:
        u = ready.pop(0)
        done += 1
        for v in succ[u]:
            ranks[v] = max(ranks[v], ranks[u] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    return ranks if done == count else None


def _crossings(upper: list[int], lower: list[int], links: list[tuple[int, int]]) -> int:
    """Pairs of links between two adjacent ranks that cross."""
    top = {v: i for i, v in enumerate(upper)}
    bottom = {v: i for i, v in enumerate(lower)}
    pairs = sorted((top[u], bottom[v]) for u, v in links if u in top and v in bottom)
    return sum(
        1
        for i, (a, b) in enumerate(pairs)
        for c, d in pairs[i + 1 :]
        if (a - c) * (b - d) < 0
    )


def _order(rows: list[list[int]], links: list[tuple[int, int]]) -> list[list[int]]:
    """Barycenter sweeps down and up; the order with the fewest crossings wins."""

    def total(candidate: list[list[int]]) -> int:
        return sum(
            _crossings(candidate[r], candidate[r + 1], links)
            for r in range(len(candidate) - 1)
        )

    best, best_count = [list(row) for row in rows], total(rows)
    current = [list(row) for row in rows]
    for sweep in range(8):
        down = sweep % 2 == 0
        indices = range(1, len(current)) if down else range(len(current) - 2, -1, -1)
        for r in indices:
            other = current[r - 1] if down else current[r + 1]
            where = {v: i for i, v in enumerate(other)}
            pairs = [(u, v) if down else (v, u) for u, v in links]
            row = current[r]
            keys = []
            for i, v in enumerate(row):
                near = [where[a] for a, b in pairs if b == v and a in where]
                keys.append(sum(near) / len(near) if near else float(i))
            current[r] = [
                v for _, _, v in sorted(zip(keys, range(len(row)), row, strict=True))
            ]
        count = total(current)
        if count < best_count:
            best, best_count = [list(row) for row in current], count
    return best


def _place(desired: list[float], sizes: list[float], gap: float) -> list[float]:
    """Positions closest to ``desired`` (least squares) keeping order and gaps.

    With ``offset[i]`` the least distance from the first box to box i, ``x - offset``
    must not decrease: the isotonic regression of ``desired - offset``.
    """
    offsets = [0.0]
    for a, b in itertools.pairwise(sizes):
        offsets.append(offsets[-1] + (a + b) / 2 + gap)
    blocks: list[list[float]] = []  # [mean, count]
    for value in (d - o for d, o in zip(desired, offsets, strict=True)):
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            prev = blocks[-1]
            prev[0] = (prev[0] * prev[1] + mean * count) / (prev[1] + count)
            prev[1] += count
    fitted = [mean for mean, count in blocks for _ in range(int(count))]
    return [f + o for f, o in zip(fitted, offsets, strict=True)]


def layered_layout(
    sizes: list[tuple[float, float]],
    edges: list[tuple[int, int]],
    fallback_ranks: list[int],
    *,
    vertical: bool = True,
    gap: float = 0.35,
    rank_gap: float = 0.55,
    margin: float = 0.2,
) -> Layout:
    """Lay out boxes of ``sizes`` (width, height) joined by ``edges`` (index pairs).

    ``vertical``: ranks run top to bottom (Keras' ``rankdir="TB"``), else left to
    right (``"LR"``). ``fallback_ranks`` are used when the edges have a cycle.
    """
    count = len(sizes)
    ranks = _longest_path_ranks(count, edges) or list(fallback_ranks)
    across = [w if vertical else h for w, h in sizes]
    along = [h if vertical else w for w, h in sizes]
    vertex_rank = list(ranks)
    chains: list[list[int]] = []
    for u, v in edges:
        chain = [u]
        for r in range(ranks[u] + 1, ranks[v]):
            vertex_rank.append(r)
            across.append(_WAYPOINT)
            chain.append(len(vertex_rank) - 1)
        chains.append([*chain, v])
    links = [
        (a, b)
        for chain, (u, v) in zip(chains, edges, strict=True)
        if ranks[v] > ranks[u]
        for a, b in itertools.pairwise(chain)
    ]
    depth = max(vertex_rank, default=0) + 1
    rows: list[list[int]] = [[] for _ in range(depth)]
    for vertex, r in enumerate(vertex_rank):
        rows[r].append(vertex)
    rows = _order(rows, links)
    pos = [0.0] * len(vertex_rank)
    for row in rows:
        placed = _place([0.0] * len(row), [across[v] for v in row], gap)
        for vertex, x in zip(row, placed, strict=True):
            pos[vertex] = x
    neighbours: list[list[int]] = [[] for _ in vertex_rank]
    for a, b in links:
        neighbours[a].append(b)
        neighbours[b].append(a)
    for sweep in range(12):
        order = rows if sweep % 2 == 0 else rows[::-1]
        for row in order:
            desired = [
                sum(pos[n] for n in neighbours[v]) / len(neighbours[v])
                if neighbours[v]
                else pos[v]
                for v in row
            ]
            placed = _place(desired, [across[v] for v in row], gap)
            for vertex, x in zip(row, placed, strict=True):
                pos[vertex] = x
    rank_size = [max((along[v] for v in row if v < count), default=0.0) for row in rows]
    rank_mid, cursor = [], 0.0
    for size in rank_size:
        rank_mid.append(cursor + size / 2)
        cursor += size + rank_gap
    low = min(pos[v] - across[v] / 2 for v in range(len(pos)))
    high = max(pos[v] + across[v] / 2 for v in range(len(pos)))
    extent_across = high - low + 2 * margin
    extent_along = cursor - rank_gap + 2 * margin

    def point(a: float, b: float) -> tuple[float, float]:
        """Layout coordinates (across, along down the ranks) to drawing (x, y up)."""
        a, b = a - low + margin, b + margin
        return (a, extent_along - b) if vertical else (b, extent_across - a)

    centers = [point(pos[v], rank_mid[vertex_rank[v]]) for v in range(count)]
    layout = Layout(centers, ranks)
    layout.width, layout.height = (
        (extent_across, extent_along) if vertical else (extent_along, extent_across)
    )
    for chain, (u, v) in zip(chains, edges, strict=True):
        start = rank_mid[ranks[u]] + along[u] / 2
        end = rank_mid[ranks[v]] - along[v] / 2
        # through each rank it skips, the arrow runs straight past that rank's boxes
        waypoints = [
            point(
                pos[w], rank_mid[vertex_rank[w]] + side * rank_size[vertex_rank[w]] / 2
            )
            for w in chain[1:-1]
            for side in (-1, 1)
        ]
        layout.back.append(ranks[v] <= ranks[u])
        layout.paths.append(
            [point(pos[u], start), *waypoints, point(pos[v], end)]
            if ranks[v] > ranks[u]
            else [point(pos[u], rank_mid[ranks[u]]), point(pos[v], rank_mid[ranks[v]])]
        )
    _spread_ports(layout, edges, sizes, vertical)
    return layout


def _spread_ports(
    layout: Layout,
    edges: list[tuple[int, int]],
    sizes: list[tuple[float, float]],
    vertical: bool,
) -> None:
    """Arrows leaving or entering one box side by side, ordered by their other end."""
    axis = 0 if vertical else 1
    for end, other in ((0, 1), (-1, -2)):  # the start points, then the end points
        by_box: dict[int, list[int]] = {}
        for i, edge in enumerate(edges):
            if not layout.back[i]:
                by_box.setdefault(edge[0] if end == 0 else edge[1], []).append(i)
        for box, indices in by_box.items():
            if len(indices) < 2:
                continue
            indices.sort(key=lambda i: layout.paths[i][other][axis])
            span = min(sizes[box][axis] * 0.8, 0.3 * (len(indices) - 1))
            for k, i in enumerate(indices):
                shift = span * (k / (len(indices) - 1) - 0.5)
                x, y = layout.paths[i][end]
                layout.paths[i][end] = (x + shift, y) if vertical else (x, y + shift)
