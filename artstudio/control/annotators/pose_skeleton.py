"""OpenPose's body decoding and drawing, as controlnet-aux does them
(open_pose/body.py and util.py, Apache-2.0, after Hzzone/pytorch-openpose):
peaks of the part heatmaps, limbs scored along the part affinity fields,
limbs joined into people, and each person drawn in OpenPose's 18 colours,
4 px limbs and joints at a 512 px picture: what OpenPose ControlNets read."""

from __future__ import annotations

import math

import numpy as np

PARTS = 18  # nose, neck, right shoulder, elbow, wrist, left ..., eyes, ears
PEAK_THRESHOLD = 0.1
FIELD_THRESHOLD = 0.05
SAMPLES = 10  # points along a limb where the field is read
# Limbs as pairs of parts (0-based), and the two field channels of each.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
         (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17))
FIELDS = ((12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5),
          (6, 7), (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19),
          (26, 27))
DRAWN_LIMBS = 17  # the last two (ear to shoulder) join people but are not drawn
COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
           (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
           (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
STICK_WIDTH = 4


def peaks(heatmaps: np.ndarray) -> list[list[tuple[int, int, float, int]]]:
    """Per part, its local maxima above the threshold as (x, y, score, id),
    ids counting across parts."""
    import cv2

    found: list[list[tuple[int, int, float, int]]] = []
    next_id = 0
    for part in range(PARTS):
        raw = np.ascontiguousarray(heatmaps[:, :, part], dtype=np.float32)
        smooth = np.pad(cv2.GaussianBlur(raw, (0, 0), 3, borderType=cv2.BORDER_REFLECT), 1)
        centre = smooth[1:-1, 1:-1]
        top = ((centre >= smooth[:-2, 1:-1]) & (centre >= smooth[2:, 1:-1])
               & (centre >= smooth[1:-1, :-2]) & (centre >= smooth[1:-1, 2:])
               & (centre > PEAK_THRESHOLD))
        ys, xs = np.nonzero(top)
        found.append([(int(x), int(y), float(raw[y, x]), next_id + i)
                      for i, (y, x) in enumerate(zip(ys, xs, strict=True))])
        next_id += len(ys)
    return found


def _limb(starts, ends, field_x, field_y, height: int) -> list[tuple[int, int, float]]:
    """The limbs (start id, end id, score) the field supports, each part used once."""
    scored = []
    for i, a in enumerate(starts):
        for j, b in enumerate(ends):
            dx, dy = b[0] - a[0], b[1] - a[1]
            norm = max(0.001, math.hypot(dx, dy))
            xs = np.rint(np.linspace(a[0], b[0], SAMPLES)).astype(int)
            ys = np.rint(np.linspace(a[1], b[1], SAMPLES)).astype(int)
            along = field_x[ys, xs] * (dx / norm) + field_y[ys, xs] * (dy / norm)
            score = float(along.mean()) + min(0.5 * height / norm - 1, 0)
            if (along > FIELD_THRESHOLD).sum() > 0.8 * SAMPLES and score > 0:
                scored.append((i, j, score))
    chosen: list[tuple[int, int, float]] = []
    used_i, used_j = set(), set()
    for i, j, score in sorted(scored, key=lambda s: s[2], reverse=True):
        if i not in used_i and j not in used_j:
            chosen.append((starts[i][3], ends[j][3], score))
            used_i.add(i)
            used_j.add(j)
            if len(chosen) >= min(len(starts), len(ends)):
                break
    return chosen


def people(heatmaps: np.ndarray, fields: np.ndarray) -> list[list[tuple[float, float] | None]]:
    """Each person found: 18 parts, (x, y) in pixels or None."""
    found = peaks(heatmaps)
    every = [p for part in found for p in part]
    score_of = [p[2] for p in every]
    rows: list[np.ndarray] = []  # 18 part ids (-1 none), then total score, part count
    for k, ((a, b), (fx, fy)) in enumerate(zip(LIMBS, FIELDS, strict=True)):
        if not found[a] or not found[b]:
            continue
        for start, end, score in _limb(found[a], found[b], fields[:, :, fx], fields[:, :, fy],
                                       heatmaps.shape[0]):
            holding = [r for r, row in enumerate(rows) if row[a] == start or row[b] == end][:2]
            if len(holding) == 1:
                row = rows[holding[0]]
                if row[b] != end:
                    row[b] = end
                    row[-1] += 1
                    row[-2] += score_of[end] + score
            elif len(holding) == 2:
                first, second = rows[holding[0]], rows[holding[1]]
                if not ((first[:-2] >= 0) & (second[:-2] >= 0)).any():  # disjoint: one person
                    first[:-2] += second[:-2] + 1
                    first[-2:] += second[-2:]
                    first[-2] += score
                    del rows[holding[1]]
                else:
                    first[b] = end
                    first[-1] += 1
                    first[-2] += score_of[end] + score
            elif k < DRAWN_LIMBS:
                row = -np.ones(PARTS + 2)
                row[a], row[b] = start, end
                row[-1] = 2
                row[-2] = score_of[start] + score_of[end] + score
                rows.append(row)
    kept = [row for row in rows if row[-1] >= 4 and row[-2] / row[-1] >= 0.4]
    return [[(float(every[i][0]), float(every[i][1])) if i >= 0 else None
             for i in row[:PARTS].astype(int)] for row in kept]


def draw(persons, size: tuple[int, int]) -> np.ndarray:
    """The skeletons on black, (height, width) = `size`, RGB uint8."""
    import cv2

    canvas = np.zeros((*size, 3), np.uint8)
    for parts in persons:
        for (a, b), colour in zip(LIMBS[:DRAWN_LIMBS], COLOURS, strict=False):
            if parts[a] is None or parts[b] is None:
                continue
            (x1, y1), (x2, y2) = parts[a], parts[b]
            length = math.hypot(x1 - x2, y1 - y2)
            angle = math.degrees(math.atan2(y1 - y2, x1 - x2))
            polygon = cv2.ellipse2Poly((int((x1 + x2) / 2), int((y1 + y2) / 2)),
                                       (int(length / 2), STICK_WIDTH), int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, [int(c * 0.6) for c in colour])
        for part, colour in zip(parts, COLOURS, strict=True):
            if part is not None:
                cv2.circle(canvas, (int(part[0]), int(part[1])), 4, colour, thickness=-1)
    return canvas
