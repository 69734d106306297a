"""Measurements of generated digits: what a classifier sees, slant, stroke width, Fréchet distance."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


@torch.inference_mode()
def classify(classifier, images: torch.Tensor, *, batch_size: int = 1000):
    """(predicted digit (B,), confidence (B,)) for (B, 1, 28, 28) images in [-1, 1]."""
    classifier.eval()
    probs = torch.cat([classifier(chunk).softmax(1) for chunk in images.split(batch_size)])
    confidence, predicted = probs.max(1)
    return predicted, confidence


@torch.inference_mode()
def features(classifier, images: torch.Tensor, *, batch_size: int = 1000) -> torch.Tensor:
    """The classifier's hidden features (B, feature_dim), the space of the Fréchet distance."""
    classifier.eval()
    return torch.cat([classifier.features(chunk) for chunk in images.split(batch_size)])


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between two feature sets (as FID).

    Tr((S_a S_b)^1/2) is computed as the trace of the root of the symmetric S_a^1/2 S_b S_a^1/2,
    which stays exact when ReLU features leave the covariances singular.
    """
    a, b = features_a.double().numpy(), features_b.double().numpy()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(values.clip(min=0))) @ vectors.T
    trace_root = np.sqrt(np.linalg.eigvalsh(root_a @ cov_b @ root_a).clip(min=0)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def _ink(images: torch.Tensor) -> np.ndarray:
    """(B, 1, H, W) in [-1, 1] -> ink weights (B, H, W) in [0, 1]."""
    return ((images.detach().float().cpu()[:, 0] + 1) / 2).clamp(0, 1).numpy()


def slant(images: torch.Tensor) -> torch.Tensor:
    """Slant of each digit from second-order image moments: horizontal shift per unit of height.

    Positive means the top leans right (italic), 0 upright.
    """
    ink = _ink(images)
    _, h, w = ink.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    mass = ink.sum((1, 2)) + 1e-8
    cx = (ink * xs).sum((1, 2)) / mass
    cy = (ink * ys).sum((1, 2)) / mass
    dx, dy = xs[None] - cx[:, None, None], ys[None] - cy[:, None, None]
    mu11 = (ink * dx * dy).sum((1, 2))
    mu02 = (ink * dy * dy).sum((1, 2)) + 1e-8
    return torch.from_numpy(-mu11 / mu02)  # y grows downwards, so leaning right gives mu11 < 0


def stroke_width(images: torch.Tensor) -> torch.Tensor:
    """Mean stroke width in pixels of each digit: ink area divided by the length of its skeleton."""
    from skimage.morphology import skeletonize

    ink = _ink(images) > 0.5
    widths = [mask.sum() / max(skeletonize(mask).sum(), 1) for mask in ink]
    return torch.tensor(widths, dtype=torch.float64)


def rank_correlation(x, y) -> float:
    """Spearman's rank correlation of two equally long 1-D sequences, tied values sharing their mean rank (nan if
    either is constant or shorter than 2). Ties are common in the digit measures (a stroke width is a ratio of
    pixel counts); breaking them by order would invent a correlation with the order of the sequence."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"rank_correlation takes two 1-D sequences of one length, got shapes {x.shape} and {y.shape}")
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


# --- image restoration: the standard protocol ----------------------------------------------------


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """Luma of uint8-range RGB (H, W, 3) as MATLAB's rgb2ycbcr (ITU-R BT.601, studio swing 16..235)."""
    rgb = rgb.astype(np.float64) / 255.0
    return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]


def _shave(array: np.ndarray, border: int) -> np.ndarray:
    return array[border:-border, border:-border] if border else array


def psnr(a: np.ndarray, b: np.ndarray, *, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB between two arrays of the same shape (scikit-image's)."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = a.astype(np.float64), b.astype(np.float64)
    return float("inf") if np.array_equal(a, b) else float(peak_signal_noise_ratio(b, a, data_range=data_range))


def ssim(a: np.ndarray, b: np.ndarray, *, data_range: float = 255.0) -> float:
    """Structural similarity (Wang et al. 2004) of two 2-D arrays, with the reference implementation's
    11x11 Gaussian window (sigma 1.5) and constants, as scikit-image computes it."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(
        a.astype(np.float64), b.astype(np.float64), gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=data_range,
    ))


def psnr_ssim_y(output: np.ndarray, reference: np.ndarray, *, shave: int = 0) -> tuple[float, float]:
    """PSNR and SSIM on the Y channel of two uint8 RGB images, ``shave`` pixels cut from every border."""
    if output.shape != reference.shape:
        raise ValueError(f"images differ in shape: {output.shape} vs {reference.shape}")
    y_out, y_ref = _shave(rgb_to_y(output), shave), _shave(rgb_to_y(reference), shave)
    return psnr(y_out, y_ref), ssim(y_out, y_ref)


def texture(rgb: np.ndarray) -> float:
    """Mean absolute Laplacian of the luma: how much fine detail (texture, grain, edges) an image holds.

    Over the ground truth's: well under 1 is the smooth "oil painting" look, over 1 invented grain.
    """
    from scipy.ndimage import laplace

    return float(np.mean(np.abs(laplace(rgb_to_y(rgb)))))


def periodic_pattern(rgb: np.ndarray, *, period: int) -> float:
    """How strongly fine detail repeats with ``period`` pixels (0: not at all): a sub-pixel checkerboard.

    The root mean square of ``sub_pixel_pattern``: in a photo the luma Laplacian's mean at each of the
    ``period`` x ``period`` positions of a grid of that period is near zero, while a pixel shuffle whose
    sub-pixel outputs drift apart gives each position its own offset.
    """
    positions = sub_pixel_pattern(_as_images(rgb), period=period)
    return float(positions.square().mean().sqrt())


LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))


def _as_images(rgb: np.ndarray) -> torch.Tensor:
    """One RGB image (H, W, 3) as a float64 batch (1, 3, H, W)."""
    return torch.from_numpy(np.asarray(rgb, dtype=np.float64)).permute(2, 0, 1)[None]


def _luma(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W): the luma of RGB images (B, 3, H, W), any range."""
    return (images * images.new_tensor((0.299, 0.587, 0.114)).view(1, 3, 1, 1)).sum(1, keepdim=True)


def _sub_pixel_laplacian(images: torch.Tensor, period: int) -> torch.Tensor:
    """(B, rows, period, columns, period): the luma Laplacian of RGB images (B, 3, H, W) over the whole
    periods from the top left, each grid position on its own axes."""
    luma = _luma(images)
    detail = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), images.new_tensor(LAPLACIAN).view(1, 1, 3, 3))
    batch, _, height, width = detail.shape
    rows, columns = height // period, width // period
    if rows == 0 or columns == 0:
        raise ValueError(f"the image is too small ({width}x{height}) for a {period}-pixel pattern")
    return detail[..., : rows * period, : columns * period].reshape(batch, rows, period, columns, period)


def sub_pixel_detail(images: torch.Tensor, *, period: int) -> torch.Tensor:
    """(period, period): the mean absolute luma Laplacian of RGB images (B, 3, H, W) at each position of a
    grid of that period, over the mean at all of them (all near 1.0 in a photo), over the whole periods
    from the top left. Differentiable: the GAN phase of realesrgan trains with it."""
    positions = _sub_pixel_laplacian(images, period).abs().mean(dim=(0, 1, 3))
    return positions / positions.mean()


def sub_pixel_pattern(images: torch.Tensor, *, period: int, reference: torch.Tensor | None = None) -> torch.Tensor:
    """(period, period): the mean signed luma Laplacian of RGB images (B, 3, H, W) at each position of a
    grid of that period, over the mean absolute Laplacian (all near 0 in a photo) of the images or of
    ``reference`` images. A 4-pixel mesh whose positions carry equal detail of opposite signs shows here
    and not in ``sub_pixel_detail``. Differentiable: realesrgan trains with it."""
    detail = _sub_pixel_laplacian(images, period)
    scale = detail if reference is None else _sub_pixel_laplacian(reference, period)
    return detail.mean(dim=(0, 1, 3)) / scale.abs().mean()


def sub_pixel_boundaries(images: torch.Tensor, *, period: int) -> torch.Tensor:
    """(period,): the mean absolute luma gradient of RGB images (B, 3, H, W) at each phase of a grid of
    that period (entry p: between the pixels ``period * k + p`` and ``period * k + p + 1``, across rows
    and across columns alike), over the mean at all phases: all near 1.0 in a photo. An x``period``
    upscale that marks every low-res pixel's boundary raises the last entry (``block_grid_energy``
    with that period sees the same). Differentiable: realesrgan can train with it."""
    luma = _luma(images)
    phases = []
    for gradient in ((luma[..., :, 1:] - luma[..., :, :-1]).abs(), (luma[..., 1:, :] - luma[..., :-1, :]).abs().transpose(-1, -2)):
        whole = gradient.shape[-1] // period * period
        if whole == 0:
            raise ValueError(f"the image is too small ({luma.shape[-1]}x{luma.shape[-2]}) for a {period}-pixel grid")
        phases.append(gradient[..., :whole].reshape(*gradient.shape[:-1], -1, period).mean(dim=(0, 1, 2, 3)))
    energy = (phases[0] + phases[1]) / 2
    return energy / energy.mean()


def position_energies(rgb: np.ndarray, *, period: int) -> np.ndarray:
    """``sub_pixel_detail`` of one RGB image (H, W, 3). Where one sub-pixel output of a pixel shuffle
    goes its own way, its position carries dots whose sign follows the picture, bright here and dark
    there: they cancel in ``periodic_pattern``'s signed means but not in these."""
    return sub_pixel_detail(_as_images(rgb), period=period).numpy()


def position_energy(rgb: np.ndarray, *, period: int) -> float:
    """Sub-pixel dots (1.0: none): how much more fine detail the busiest grid position holds than the
    average one (``position_energies``)."""
    return float(position_energies(rgb, period=period).max())


def block_grid_energy(rgb: np.ndarray, *, period: int, within: int = 1) -> float:
    """How strongly an image shows a grid of blocks ``period`` pixels wide (1.0: none; above: visible edges).

    The mean absolute luma gradient across the block boundaries (between pixels ``period * k - 1``
    and ``period * k``, both directions) divided by the mean gradient across the other boundaries of
    a finer grid of ``within`` pixels (1: between every other pair of pixels). JPEG codes 8x8 blocks,
    so an x4 upscale of a JPEG shows them every 32 output pixels; with ``within`` 4, the JPEG's blocks
    are weighed against the other low-res pixels' boundaries, which a pixel shuffle can mark as well.
    """
    if period % within:
        raise ValueError(f"the grid of {within} pixels does not divide the block period {period}")
    luma = rgb_to_y(rgb)
    across, elsewhere = [], []
    for gradient in (np.abs(np.diff(luma, axis=1)), np.abs(np.diff(luma, axis=0)).T):  # (rows, boundaries)
        phase = np.arange(gradient.shape[1]) % period
        on_grid = phase == period - 1
        if not on_grid.any():
            raise ValueError(f"the image is too small ({rgb.shape[1]}x{rgb.shape[0]}) to hold a {period}-pixel grid")
        across.append(gradient[:, on_grid].ravel())
        elsewhere.append(gradient[:, ~on_grid & (phase % within == within - 1)].ravel())
    return float(np.concatenate(across).mean() / np.concatenate(elsewhere).mean())


# A stretch of a toy run in which the JS divergence estimate moved by less than this counts neither as progress nor regress.
PROGRESS_TOLERANCE = 0.02


def losses_vs_progress(points: list[dict], *, tolerance: float = PROGRESS_TOLERANCE) -> dict:
    """How well each loss follows a run's progress (``Lab.progress``).

    ``stretches``: between consecutive measurements, those in which the JS divergence estimate
    moved by more than ``tolerance``; ``agree_g`` / ``agree_d``: in how many of them the loss moved
    the way progress did (a loss that tracked G's quality: G's loss down as the divergence falls, D's
    up: in a zero-sum game D loses what G wins). ``rank_g`` / ``rank_d``: each loss's rank
    correlation with the divergence over the whole run, the slow drift a plot shows.
    """
    js, loss_g, loss_d = (np.array([p[k] for p in points], np.float64) for k in ("js_divergence", "loss_g", "loss_d"))
    moved = np.abs(np.diff(js)) > tolerance
    direction = np.sign(np.diff(js))[moved]
    return {
        "stretches": int(moved.sum()),
        "agree_g": int((np.sign(np.diff(loss_g))[moved] == direction).sum()),
        "agree_d": int((np.sign(np.diff(loss_d))[moved] == -direction).sum()),
        "rank_g": rank_correlation(loss_g, js),
        "rank_d": rank_correlation(loss_d, js),
    }
