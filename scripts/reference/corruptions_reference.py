#!/usr/bin/env python3
"""Independent reference for rt's common corruptions (CorruptionReferenceTests).

Written from Hendrycks & Dietterich's published corruption code (make_cifar_c.py, CIFAR-10-C's
severity parameters) with NumPy, SciPy, PIL and, when importable, scikit-image. Where the published
code calls a library that is not used here, its documented behaviour is written out:
  - ImageMagick's MotionBlurImage (through Wand): its one-sided Gaussian kernel over
    2*ceil(radius)+1 taps along the angle, edge pixels repeated;
  - OpenCV: filter2D and GaussianBlur with BORDER_REFLECT_101 = scipy's 'mirror';
    getAffineTransform = a 3x3 linear solve; warpAffine = scipy.ndimage.affine_transform
    (order 1, 'mirror'), without OpenCV's 1/32-pixel quantisation of sample positions.
Random corruptions take rt's random draws as input (the normals, uniforms, angle or fields), so the
formula is compared, not two random generators; shot noise is compared in distribution: this
script returns the exact per-pixel mean and standard deviation of clip(Poisson(c*x)/c).

Usage: corruptions_reference.py INPUT.json OUTPUT.json
INPUT: {"cases": [{"kind", "severity", "channels", "height", "width", "pixels": CHW list, "draws": {...}}]}
OUTPUT: {"outputs": [CHW list, ...]} (shot_noise: {"mean": ..., "std": ...})
"""
import io
import json
import sys

import numpy as np
from PIL import Image
from scipy import ndimage, stats

try:
    from skimage import color as skcolor
except ImportError:  # the HSV formulas below are skimage's
    skcolor = None

# CIFAR-10-C's severity parameters (make_cifar_c.py), severity 1..5.
GAUSSIAN_NOISE = [0.04, 0.06, .08, .09, .10]
SHOT_NOISE = [500, 250, 100, 75, 50]
IMPULSE_NOISE = [.01, .02, .03, .05, .07]
SPECKLE_NOISE = [.06, .1, .12, .16, .2]
GAUSSIAN_BLUR = [.4, .6, 0.7, .8, 1]
DEFOCUS_BLUR = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)]
MOTION_BLUR = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)]
ZOOM_BLUR = [np.arange(1, 1.06, 0.01), np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01),
             np.arange(1, 1.21, 0.01), np.arange(1, 1.26, 0.01)]
CONTRAST = [.75, .5, .4, .3, 0.15]
BRIGHTNESS = [.05, .1, .15, .2, .3]
SATURATE = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)]
JPEG = [80, 65, 58, 50, 40]
PIXELATE = [0.95, 0.9, 0.85, 0.75, 0.65]
ELASTIC = [(0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)]


def hwc(case):
    c, h, w = case["channels"], case["height"], case["width"]
    return np.array(case["pixels"], dtype=np.float64).reshape(c, h, w).transpose(1, 2, 0)


def chw(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64).transpose(2, 0, 1)).ravel().tolist()


def field(values, shape):
    return np.array(values, dtype=np.float64).reshape(shape)


def rgb2hsv(x):
    if skcolor is not None:
        return skcolor.rgb2hsv(x)
    v = x.max(-1); delta = x.max(-1) - x.min(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(delta == 0, 0, delta / np.where(v == 0, 1, v))
        h = np.zeros_like(v)
        d = np.where(delta == 0, 1, delta)
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        h = np.where(r == v, (g - b) / d, h)
        h = np.where(g == v, 2 + (b - r) / d, h)
        h = np.where(b == v, 4 + (r - g) / d, h)
    h = (h / 6) % 1
    h[delta == 0] = 0
    return np.stack([h, s, v], -1)


def hsv2rgb(x):
    if skcolor is not None:
        return skcolor.hsv2rgb(x)
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    i = np.floor(h * 6); f = h * 6 - i
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    i = i.astype(int) % 6
    choices = [np.stack(c, -1) for c in [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]]
    out = np.zeros_like(x)
    for k in range(6):
        out[i == k] = choices[k][i == k]
    return out


def as_rgb(x):
    """A gray image as RGB for the HSV corruptions (its hue and saturation are 0)."""
    return np.repeat(x, 3, axis=2) if x.shape[2] == 1 else x


def back(x, channels):
    return x[..., :1] if channels == 1 else x


def chw_field(values, x):
    """A per-value draw stream in rt's order (channel, row, column) as an HWC array."""
    h, w, c = x.shape
    return np.array(values, dtype=np.float64).reshape(c, h, w).transpose(1, 2, 0)


def impulse_noise(x, s, d):
    flip, salt = chw_field(d["flip"], x), chw_field(d["salt"], x)
    out = x.copy()
    hit = flip < IMPULSE_NOISE[s]
    out[hit & (salt < 0.5)] = 1
    out[hit & (salt >= 0.5)] = 0
    return out


def shot_noise_moments(x, s):
    lam = SHOT_NOISE[s]
    k = np.arange(0, 4 * lam + 200)
    mean, second = np.zeros_like(x), np.zeros_like(x)
    for index, value in np.ndenumerate(x):
        pmf = stats.poisson.pmf(k, lam * value) if value > 0 else (k == 0).astype(float)
        y = np.clip(k / lam, 0, 1)
        mean[index] = (pmf * y).sum()
        second[index] = (pmf * y * y).sum()
    return mean, np.sqrt(np.maximum(second - mean ** 2, 0))


def gaussian_noise(x, s, d):
    return np.clip(x + GAUSSIAN_NOISE[s] * chw_field(d["normals"], x), 0, 1)


def speckle_noise(x, s, d):
    return np.clip(x + x * SPECKLE_NOISE[s] * chw_field(d["normals"], x), 0, 1)


def gaussian_blur(x, s, d):
    # skimage.filters.gaussian(x, sigma, multichannel=True): scipy's filter, mode 'nearest', truncate 4.
    c = GAUSSIAN_BLUR[s]
    return np.clip(ndimage.gaussian_filter(x, sigma=(c, c, 0), mode="nearest", truncate=4.0), 0, 1)


def disk(radius, alias_blur):
    L = np.arange(-8, 8 + 1)
    X, Y = np.meshgrid(L, L)
    aliased = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=np.float64)
    aliased /= aliased.sum()
    # cv2.GaussianBlur(ksize=(3, 3), sigmaX=alias_blur): getGaussianKernel(3, sigma) both ways, reflect-101.
    taps = np.exp(-np.arange(-1, 2) ** 2 / (2 * alias_blur ** 2))
    taps /= taps.sum()
    return ndimage.correlate(aliased, np.outer(taps, taps), mode="mirror")


def defocus_blur(x, s, d):
    kernel = disk(*DEFOCUS_BLUR[s])
    channels = [ndimage.correlate(x[:, :, k], kernel, mode="mirror") for k in range(x.shape[2])]
    return np.clip(np.stack(channels, -1), 0, 1)


def motion_blur(x, s, d):
    radius, sigma = MOTION_BLUR[s]
    width = int(2 * np.ceil(radius) + 1)
    kernel = np.exp(-np.arange(width) ** 2 / (2 * sigma ** 2))
    kernel /= kernel.sum()
    angle = np.deg2rad(d["angle"])
    point = (width * np.sin(angle), width * np.cos(angle))
    hyp = np.hypot(*point)
    h, w = x.shape[:2]
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    out = np.zeros_like(x)
    for i in range(width):
        ox = int(np.ceil(i * point[1] / hyp - 0.5))
        oy = int(np.ceil(i * point[0] / hyp - 0.5))
        out += kernel[i] * x[np.clip(rows + oy, 0, h - 1), np.clip(cols + ox, 0, w - 1)]
    return np.clip(out, 0, 1)


def clipped_zoom(img, zoom_factor):
    h, w = img.shape[:2]
    ch, cw = int(np.ceil(h / zoom_factor)), int(np.ceil(w / zoom_factor))
    top, left = (h - ch) // 2, (w - cw) // 2
    img = ndimage.zoom(img[top:top + ch, left:left + cw], (zoom_factor, zoom_factor, 1), order=1)
    trim_top, trim_left = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[trim_top:trim_top + h, trim_left:trim_left + w]


def zoom_blur(x, s, d):
    out = np.zeros_like(x)
    for z in ZOOM_BLUR[s]:
        out += clipped_zoom(x, z)
    return np.clip((x + out) / (len(ZOOM_BLUR[s]) + 1), 0, 1)


def contrast(x, s, d):
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return np.clip((x - means) * CONTRAST[s] + means, 0, 1)


def brightness(x, s, d):
    hsv = rgb2hsv(as_rgb(x))
    hsv[:, :, 2] = np.clip(hsv[:, :, 2] + BRIGHTNESS[s], 0, 1)
    return back(np.clip(hsv2rgb(hsv), 0, 1), x.shape[2])


def saturate(x, s, d):
    hsv = rgb2hsv(x)
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * SATURATE[s][0] + SATURATE[s][1], 0, 1)
    return np.clip(hsv2rgb(hsv), 0, 1)


def to_pil(x):
    u8 = np.uint8(np.round(np.clip(x, 0, 1) * 255))
    return Image.fromarray(u8[:, :, 0], mode="L") if x.shape[2] == 1 else Image.fromarray(u8, mode="RGB")


def from_pil(img, channels):
    a = np.asarray(img, dtype=np.float64) / 255
    return a[:, :, None] if channels == 1 else a


def jpeg_compression(x, s, d):
    buffer = io.BytesIO()
    to_pil(x).save(buffer, "JPEG", quality=JPEG[s])
    return from_pil(Image.open(buffer), x.shape[2])


def pixelate(x, s, d):
    h, w = x.shape[:2]
    img = to_pil(x).resize((int(w * PIXELATE[s]), int(h * PIXELATE[s])), Image.BOX).resize((w, h), Image.BOX)
    return from_pil(img, x.shape[2])


def elastic_transform(x, s, d):
    side = min(x.shape[:2])
    alpha, sigma, affine = (side * v for v in ELASTIC[s])
    image = x.astype(np.float32)
    shape_size = image.shape[:2]
    center = np.float32(shape_size) // 2
    square = min(shape_size) // 3
    pts1 = np.float32([center + square, [center[0] + square, center[1] - square], center - square])
    pts2 = pts1 + np.array(d["affine"], dtype=np.float32).reshape(3, 2)
    # cv2.getAffineTransform(pts1, pts2): M with pts2 = M [pts1; 1]; warpAffine samples at M^-1 (x, y).
    A = np.hstack([pts2.astype(np.float64), np.ones((3, 1))])
    inverse = np.linalg.solve(A, pts1.astype(np.float64)).T  # 2x3: (x, y) source of each output (x, y)
    matrix = np.array([[inverse[1, 1], inverse[1, 0]], [inverse[0, 1], inverse[0, 0]]])  # in (row, col)
    offset = np.array([inverse[1, 2], inverse[0, 2]])
    warped = np.stack([ndimage.affine_transform(image[:, :, k].astype(np.float64), matrix, offset, order=1, mode="mirror")
                       for k in range(image.shape[2])], -1)
    if alpha == 0:
        return np.clip(warped, 0, 1)
    h, w = shape_size
    dx = ndimage.gaussian_filter(field(d["dx"], (h, w)), sigma, mode="reflect", truncate=3) * alpha
    dy = ndimage.gaussian_filter(field(d["dy"], (h, w)), sigma, mode="reflect", truncate=3) * alpha
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = np.stack([ndimage.map_coordinates(warped[:, :, k], [rows + dy, cols + dx], order=1, mode="reflect")
                    for k in range(warped.shape[2])], -1)
    return np.clip(out, 0, 1)


FUNCTIONS = {f.__name__: f for f in [gaussian_noise, impulse_noise, speckle_noise, gaussian_blur, defocus_blur, motion_blur,
                                     zoom_blur, contrast, brightness, saturate, jpeg_compression, pixelate, elastic_transform]}


def main(source, target):
    cases = json.load(open(source))["cases"]
    outputs = []
    for case in cases:
        x, s, d = hwc(case), case["severity"] - 1, case.get("draws", {})
        if case["kind"] == "shot_noise":
            mean, std = shot_noise_moments(x, s)
            outputs.append({"mean": chw(mean), "std": chw(std)})
        else:
            outputs.append(chw(FUNCTIONS[case["kind"]](x, s, d)))
    json.dump({"outputs": outputs, "skimage": skcolor is not None}, open(target, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
