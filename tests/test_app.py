"""The real app, launched as `python app.py` on a free port and called through gradio_client."""

import os
import time

import pytest
from gradio_client import Client
from PIL import Image

from ganapps.hub import load

from .conftest import lab_processes

pytestmark = pytest.mark.slow  # the launched app: `pytest -m "not slow"` leaves it out while you work

API_NAMES = {
    "/dcgan_sample", "/dcgan_interpolate", "/cgan_sample", "/cgan_write_number", "/cgan_write_number_submit",
    "/infogan_sample", "/infogan_traversal", "/upscale", "/derain", "/make_rain", "/game_equilibrium", "/dirac_gan",
    "/read_drawing", "/read_digit", "/ssgan_sample", "/check_claims", "/upscale_batch", "/derain_batch", "/upscale_compare",
    "/derain_compare", "/upscale_video", "/derain_video",
}
LAB_API_NAMES = {"/toy_reset", "/toy_step", "/toy_play", "/toy_tick", "/toy_pause"}  # session state: API only, not MCP


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def gallery_images(result):
    return [Image.open(item["image"]) for item in result]


def test_every_event_is_an_api_endpoint(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert API_NAMES | LAB_API_NAMES <= names, (API_NAMES | LAB_API_NAMES) - names


def test_dcgan_sample_and_interpolation(client):
    images = gallery_images(client.predict(4, 7, api_name="/dcgan_sample"))
    assert len(images) == 4 and all(image.size == (112, 112) for image in images)
    again = gallery_images(client.predict(4, 7, api_name="/dcgan_sample"))
    assert [a.tobytes() for a in images] == [b.tobytes() for b in again]  # the seed decides
    strip = Image.open(client.predict(1, 2, 5, api_name="/dcgan_interpolate"))
    assert strip.width > 4 * strip.height  # five digits in a row


def test_cgan_sample_and_write_number(client):
    images = gallery_images(client.predict(3, 6, 0, api_name="/cgan_sample"))
    assert len(images) == 6
    written = Image.open(client.predict("1999", 0, api_name="/cgan_write_number"))
    assert written.format == "PNG" and written.size == (4 * 28 * 4, 28 * 4)


def test_infogan_sample_and_traversal(client):
    digit = load("infogan-mnist").config.category_digits[0]
    images = gallery_images(client.predict(digit, 1.5, -1.0, 5, 0, api_name="/infogan_sample"))
    assert len(images) == 5
    grid = Image.open(client.predict("width", digit, 0, api_name="/infogan_traversal"))
    assert grid.width > grid.height


def test_a_digit_is_read_by_every_reader_beside_its_test_error(client, tmp_path):
    from gradio_client import handle_file

    from .test_semi_supervised import seven_on_paper

    seven_on_paper().save(tmp_path / "seven.jpg")
    table, seen = client.predict(handle_file(str(tmp_path / "seven.jpg")), api_name="/read_digit")
    rows = {line.split(" | ")[0][2:]: line for line in table.splitlines()[2:] if line.startswith("| ")}
    assert len(rows) == 3 and "**7**" in rows["Supervised CNN, all 60,000 labels"], table
    assert "100 + 59,900 unlabelled" in rows["Semi-supervised GAN: 100 labels + 59,900 unlabelled digits"]
    assert "Ink found: black on white" in table and Image.open(seen).size == (112, 112)
    # a drawing arrives as the sketchpad's value: its composite is read
    page = Image.new("RGBA", (280, 280))  # transparent, one black stroke: a "1"
    page.paste((0, 0, 0, 255), (130, 40, 150, 240))
    page.save(tmp_path / "drawing.png")
    drawing = {"background": None, "layers": [], "composite": handle_file(str(tmp_path / "drawing.png"))}
    table, _ = client.predict(drawing, api_name="/read_drawing")
    assert "**1**" in table.splitlines()[-3] and "Ink found: black on white" in table, table
    (tmp_path / "notes.txt").write_text("not an image")
    Image.new("RGBA", (280, 280)).save(tmp_path / "blank.png")
    blank = {"background": None, "layers": [], "composite": handle_file(str(tmp_path / "blank.png"))}
    for args, api_name, message in (((handle_file(str(tmp_path / "notes.txt")),), "/read_digit", "not an image"),
                                    ((None,), "/read_digit", "image is required"),
                                    ((blank,), "/read_drawing", "no digit found")):
        with pytest.raises(Exception, match=message):
            client.predict(*args, api_name=api_name)


def test_the_semi_supervised_generator_samples_deterministically(client):
    first = gallery_images(client.predict(5, 3, api_name="/ssgan_sample"))
    assert len(first) == 5 and first[0].size == (112, 112)
    assert [im.tobytes() for im in first] == [im.tobytes() for im in gallery_images(client.predict(5, 3, api_name="/ssgan_sample"))]


@pytest.mark.parametrize(
    "args, api_name, message",
    [
        ((1000, 0), "/dcgan_sample", "1..256|maximum|1000"),
        ((4, -5), "/dcgan_sample", "seed|minimum"),
        ((4, None), "/dcgan_sample", "seed is required"),
        ((4, 5, 99), "/dcgan_interpolate", "steps|maximum"),
        ((12, 3, 0), "/cgan_sample", "12"),
        (("12ab", 0), "/cgan_write_number", "remove 'a' 'b'"),
        (("", 0), "/cgan_write_number", "text is required"),
        ((3, 7.5, 0.0, 4, 0), "/infogan_sample", "slant|maximum"),
        (("colour", 3, 0), "/infogan_traversal", "colour"),
    ],
)
def test_bad_inputs_get_clear_errors_and_the_app_keeps_serving(client, args, api_name, message):
    import re

    with pytest.raises(Exception) as caught:
        client.predict(*args, api_name=api_name)
    assert re.search(message, str(caught.value)), str(caught.value)
    assert len(gallery_images(client.predict(1, 0, api_name="/dcgan_sample"))) == 1


def test_game_lesson_finds_the_equilibria_and_runs_the_dirac_gan(client):
    table = client.predict("boxed pigs", api_name="/game_equilibrium")
    assert "**4**, **4** ★" in table and "small pig *wait*" in table
    assert "confess*, prisoner B *confess*" in client.predict("prisoner's dilemma", api_name="/game_equilibrium")
    picture, distances = client.predict(0.1, 300, 1.0, api_name="/dirac_gan")
    assert Image.open(picture).width > 300
    assert [line.split("|")[-2].strip() for line in distances.splitlines()[2:]] == ["yes", "yes", "yes"]
    with pytest.raises(Exception, match="unknown game|not in the list"):
        client.predict("chicken", api_name="/game_equilibrium")


def counts_shown(numbers: str) -> tuple[int, int, int]:
    """(steps, D updates, G updates) from a lab's numbers table."""
    import re

    found = re.search(r"\| step \(D / G updates\) \| (\d+) \((\d+) / (\d+)\) \|", numbers)
    return tuple(int(v) for v in found.groups())


def step_shown(numbers: str) -> int:
    return counts_shown(numbers)[0]


def test_theory_lab_trains_on_a_drawing_and_steps_each_player_alone(app_url):
    import math

    client = Client(app_url, verbose=False)
    circle = [[2 * math.cos(k / 40 * 2 * math.pi), 2 * math.sin(k / 40 * 2 * math.pi)] for k in range(41)]
    picture, numbers, data = client.predict(circle + [[-3, 3], [3, -3]], api_name="/lab_draw")
    assert Image.open(picture).size == (880, 368) and counts_shown(numbers) == (0, 0, 0)
    assert data == "your drawing" and "| modes covered | — |" in numbers  # a curve and two dots, not the presets' modes
    assert counts_shown(client.predict(5, api_name="/lab_step_d")[1]) == (0, 5, 0)  # D alone, five times
    assert counts_shown(client.predict(2, api_name="/lab_step_g")[1]) == (0, 5, 2)  # then G alone, twice
    assert counts_shown(client.predict(api_name="/toy_step")[1]) == (1, 6, 3)  # a step of the game: one of each
    # Reset keeps the drawing: the page's Data menu now says "your drawing" (an API caller says so itself)
    picture, numbers = client.predict(0, False, "your drawing", api_name="/toy_reset")
    assert counts_shown(numbers) == (0, 0, 0) and "| modes covered | — |" in numbers
    for points, message in (([[0, 0], [1, 1]], "draw at least 3 points"),
                            ([[0, 0], [1, 1], [4.5, 0]], r"point \(4.5, 0\) is outside the plotted range"),
                            ("not points", "a list of \\(x, y\\) points")):
        with pytest.raises(Exception, match=message):
            client.predict(points, api_name="/lab_draw")
    with pytest.raises(Exception, match="updates per press must be a whole number in 1..1000|maximum"):
        client.predict(5000, api_name="/lab_step_d")
    assert counts_shown(client.predict(1, api_name="/lab_step_d")[1]) == (0, 1, 0)  # still serving, the lab kept


def test_theory_labs_play_tick_by_tick_one_per_visitor(app_url):
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    picture, numbers = first.predict(3, api_name="/toy_reset")  # seed 3, the other controls as shown
    assert Image.open(picture).size == (880, 368) and step_shown(numbers) == 0
    assert first.predict(api_name="/toy_play")["active"] is True  # the page's timer starts ticking
    assert step_shown(first.predict(api_name="/toy_tick")[1]) >= 10  # a frame trains >= MIN_STEPS
    ticked = step_shown(first.predict(api_name="/toy_tick")[1])
    assert ticked >= 20
    assert step_shown(second.predict(api_name="/toy_step")[1]) == 1  # a lab of its own
    assert first.predict(api_name="/toy_pause")["active"] is False
    with pytest.raises(Exception, match="lr_g must be in 1e-6..1|maximum"):
        second.predict(0, False, "ring8", "gaussian", 2, "hinge", "adam", 5.0, api_name="/toy_reset")
    assert step_shown(first.predict(api_name="/toy_step")[1]) == ticked + 1  # still serving, state kept


def test_theory_labs_survive_a_lab_process_that_dies(app):
    import signal

    url, server = app
    client = Client(url, verbose=False)
    assert step_shown(client.predict(api_name="/toy_step")[1]) == 1
    labs = lab_processes(server.pid)
    assert labs
    for pid in labs:
        os.kill(pid, signal.SIGKILL)  # e.g. the kernel's out-of-memory killer
    assert step_shown(client.predict(api_name="/toy_step")[1]) == 2  # new lab processes, the same lab


def test_every_endpoint_is_an_mcp_tool_described_by_its_docstring(app_url):
    import json
    import urllib.request

    with urllib.request.urlopen(app_url + "gradio_api/mcp/schema", timeout=30) as response:
        tools = {tool["name"]: tool for tool in json.load(response)}
    # One tool per handler: the Enter-key twin of cgan_write_number is not listed again.
    assert {name.strip("/") for name in API_NAMES} - {"cgan_write_number_submit"} <= set(tools)
    assert "slant" in tools["infogan_sample"]["inputSchema"]["properties"]
    assert tools["cgan_write_number"]["description"].startswith("Write a number")


def write_upload(folder, name, content) -> str:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content.save(path)
    return str(path)


@pytest.mark.parametrize("model", ["photo-x4", "photo-x4-psnr", "srgan-x4", "srresnet-x4", "bicubic"])
def test_upscale_returns_comparison_and_full_size_png(client, tmp_path, model):
    from gradio_client import handle_file

    upload = write_upload(tmp_path, "photo.jpg", Image.new("RGB", (40, 30), (200, 120, 40)))
    (before, after), png, summary = client.predict(handle_file(upload), model, 3, api_name="/upscale")
    assert Image.open(after).size == Image.open(before).size == (120, 90)
    assert Image.open(png).format == "PNG" and Image.open(png).size == (120, 90)
    assert "40x30" in summary and "120x90" in summary


def test_upscale_defaults_to_the_photo_model(client, tmp_path):
    from gradio_client import handle_file

    upload = write_upload(tmp_path, "web.jpg", Image.new("RGB", (20, 12), (30, 160, 90)))
    from ganapps.photos import denoise_strength

    (_, after), _, summary = client.predict(handle_file(upload), api_name="/upscale")  # model and scale left out
    default = denoise_strength("photo-x4")  # its card's choice, from config.json
    assert f"with photo-x4 (denoise {default:g}) in" in summary and Image.open(after).size == (80, 48)


def test_upscale_denoise_strength_through_the_api(client, tmp_path):
    import numpy as np
    from gradio_client import handle_file

    from ganapps.photos import denoise_strength

    grainy = np.clip(np.random.default_rng(0).normal(128, 20, (24, 32, 3)), 0, 255).astype(np.uint8)
    upload = write_upload(tmp_path, "grainy.png", Image.fromarray(grainy))
    results = {}
    for strength in (0.0, 1.0):
        (_, after), png, summary = client.predict(handle_file(upload), "photo-x4", 4, strength, api_name="/upscale")
        assert f"(denoise {strength:g})" in summary
        results[strength] = np.asarray(Image.open(png)).astype(float)
    # grain kept at 0, removed at 1: the strong end leaves a smoother picture
    assert np.abs(np.diff(results[0.0], axis=1)).mean() > np.abs(np.diff(results[1.0], axis=1)).mean()
    _, _, summary = client.predict(handle_file(upload), "photo-x4", 4, api_name="/upscale")
    assert f"(denoise {denoise_strength('photo-x4'):g})" in summary  # the model's own default
    _, _, summary = client.predict(handle_file(upload), "srresnet-x4", 4, 0.3, api_name="/upscale")
    assert "denoise" not in summary  # a model without the control ignores it
    with pytest.raises(Exception, match="denoise|maximum"):
        client.predict(handle_file(upload), "photo-x4", 4, 1.5, api_name="/upscale")


def test_upscale_keeps_sixteen_bit_depth_in_the_download(client, tmp_path):
    import cv2
    import numpy as np
    from gradio_client import handle_file

    array = (np.arange(20 * 16 * 3, dtype=np.uint16).reshape(16, 20, 3) * 37) % 65535
    upload = str(tmp_path / "deep.png")
    cv2.imwrite(upload, array)
    _, png, _ = client.predict(handle_file(upload), "srresnet-x4", 4, api_name="/upscale")
    saved = cv2.imread(png, cv2.IMREAD_UNCHANGED)
    assert saved.dtype == np.uint16 and saved.shape == (64, 80, 3)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("notes.png", b"just some text", "not an image"),
        ("cut.png", "truncated", "truncated or corrupt"),
        ("huge.png", Image.new("L", (4100, 4100)), "the limit is 16.8 megapixels"),
    ],
)
def test_upscale_bad_uploads_get_clear_errors_and_the_app_keeps_serving(client, tmp_path, name, content, message):
    import io

    from gradio_client import handle_file

    if content == "truncated":
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (9, 9, 9)).save(buffer, format="PNG")
        content = buffer.getvalue()[:120]
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(write_upload(tmp_path, name, content)), "bicubic", 4, api_name="/upscale")
    ok = write_upload(tmp_path, "ok.png", Image.new("RGB", (8, 8)))
    assert Image.open(client.predict(handle_file(ok), "bicubic", 2, api_name="/upscale")[1]).size == (16, 16)


def test_upscale_takes_another_project_s_checkpoint_and_any_scale(client, tmp_path):
    import zipfile

    import numpy as np
    from gradio_client import handle_file

    from .test_foreign import forward, network, save

    model = network("ESRGAN")
    checkpoint = save(model, tmp_path / "RealESRGAN_tiny.pth", "params_ema")
    upload = write_upload(tmp_path, "photo.png", Image.fromarray(np.asarray(Image.new("RGB", (21, 13), (200, 120, 40)))))
    (_, after), png, summary = client.predict(handle_file(upload), "photo-x4", 4, None, handle_file(checkpoint), None,
                                              api_name="/upscale")
    expected = (forward(model, np.asarray(Image.open(upload)))[0].permute(1, 2, 0).numpy() * 255).round()
    assert np.abs(np.asarray(Image.open(png)).astype(float) - expected).max() <= 1
    assert "RealESRGAN_tiny.pth (ESRGAN x4" in summary
    (_, after), png, summary = client.predict(handle_file(upload), "photo-x4", 2.5, api_name="/upscale")
    assert Image.open(png).size == (52, 32) and "21x13 → **52x32**" in summary
    with pytest.raises(Exception, match="is not in the Hugging Face cache yet, and downloading it needs the network"):
        client.predict(handle_file(upload), "RealESRGAN_x4plus", 4, api_name="/upscale")
    evil = tmp_path / "evil.pth"
    evil.write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85q\x01Rq\x02.")  # pickle: os.system("true")
    with pytest.raises(Exception, match="refused"):
        client.predict(handle_file(upload), "photo-x4", 4, None, handle_file(str(evil)), None, api_name="/upscale")
    gallery, archive, summary = client.predict(
        [handle_file(upload), handle_file(write_upload(tmp_path, "notes.png", b"just text"))], "bicubic", 2,
        api_name="/upscale_batch",
    )
    assert len(gallery) == 1 and "1 of 2 done" in summary and "notes.png**: error: not an image" in summary
    assert zipfile.ZipFile(archive).namelist() == ["photo-x2.png"]


def test_derain_batch_does_the_good_files_and_names_the_bad(client, tmp_path):
    import zipfile

    from gradio_client import handle_file

    uploads = [write_upload(tmp_path, "a.png", Image.new("RGB", (19, 11), (90, 90, 90))),
               write_upload(tmp_path, "cut.png", b"\x89PNG\r\n\x1a\n broken"),
               write_upload(tmp_path, "b.jpg", Image.new("RGB", (12, 9), (20, 60, 90)))]
    gallery, archive, summary = client.predict([handle_file(u) for u in uploads], "derain-idcgan", api_name="/derain_batch")
    assert len(gallery) == 2 and "2 of 3 done" in summary and "cut.png**: error:" in summary
    names = zipfile.ZipFile(archive).namelist()
    assert names == ["a-derained.png", "b-derained.png"]
    assert Image.open(zipfile.ZipFile(archive).open("b-derained.png")).size == (12, 9)


@pytest.mark.parametrize("model", ["derain-idcgan-ssim", "derain-idcgan-mix", "derain-idcgan"])
def test_derain_returns_comparison_and_full_size_png(client, tmp_path, model):
    from gradio_client import handle_file

    upload = write_upload(tmp_path, "rainy.jpg", Image.new("RGB", (45, 31), (90, 120, 160)))
    (before, after), png, summary = client.predict(handle_file(upload), model, api_name="/derain")
    assert Image.open(after).size == Image.open(before).size == Image.open(png).size == (45, 31)
    assert f"with {model}" in summary
    rainy, derained, report = client.predict(handle_file(upload), 0.5, 10, 30, 0, model, api_name="/make_rain")
    assert Image.open(derained).size == (45, 31) and "gain" in report


def test_derain_strength_through_the_api(client, tmp_path):
    import numpy as np
    from gradio_client import handle_file
    from skimage import data as skdata

    from ganapps.rain import RainParams, add_rain

    rainy = (add_rain(skdata.coffee()[:40, :56], RainParams(), seed=4) * 255).round().astype(np.uint8)
    upload = write_upload(tmp_path, "rainy.png", Image.fromarray(rainy))
    _, kept, summary = client.predict(handle_file(upload), "derain-idcgan-ssim", 0.0, api_name="/derain")
    assert np.array_equal(np.asarray(Image.open(kept)), rainy) and "(strength 0)" in summary
    _, full, summary = client.predict(handle_file(upload), "derain-idcgan-ssim", api_name="/derain")  # the default: 1
    assert not np.array_equal(np.asarray(Image.open(full)), rainy) and "strength" not in summary
    with pytest.raises(Exception, match="strength|maximum"):
        client.predict(handle_file(upload), "derain-idcgan-ssim", 2.0, api_name="/derain")


@pytest.mark.parametrize(
    "content, model, message",
    [
        (b"just some text", "derain-idcgan-ssim", "not an image"),
        (Image.new("RGB", (8, 8)), "srgan-x4", "is a srgan model; this needs one of: derain-idcgan-ssim, derain-idcgan-mix, derain-idcgan"),
        (Image.new("RGB", (8, 8)), None, "model is required"),
    ],
)
def test_derain_bad_requests_get_clear_errors_and_the_app_keeps_serving(client, tmp_path, content, model, message):
    from gradio_client import handle_file

    with pytest.raises(Exception, match=message):
        client.predict(handle_file(write_upload(tmp_path, "upload.png", content)), model, api_name="/derain")
    ok = write_upload(tmp_path, "ok.png", Image.new("RGB", (9, 7)))
    assert Image.open(client.predict(handle_file(ok), "derain-idcgan", api_name="/derain")[1]).size == (9, 7)


def test_request_files_are_removed_after_an_hour(tmp_path, monkeypatch):
    from ganapps.ui import common

    monkeypatch.setattr(common, "OUTPUTS", tmp_path)
    old, recent = tmp_path / "old", tmp_path / "recent"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "photo-x4.png").write_bytes(b"png")
    hour_ago = time.time() - common.OUTPUT_SECONDS - 1
    os.utime(old, (hour_ago, hour_ago))
    new = common.output_folder()
    assert new.parent == tmp_path and new.is_dir()
    assert not old.exists() and (recent / "photo-x4.png").exists()


def test_photo_handlers_run_under_spaces_gpu_where_spaces_is_importable(monkeypatch):
    import sys
    import types

    from ganapps.ui.common import photo_handler

    def handler(x):
        return x + 1

    assert photo_handler(handler) is handler  # no spaces package here
    lent = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda fn: lent.append(fn) or (lambda *args: ("on gpu", fn(*args)))
    monkeypatch.setitem(sys.modules, "spaces", fake)
    assert photo_handler(handler)(1) == ("on gpu", 2) and lent == [handler]


def test_an_iphone_photo_comes_back_whole_in_the_format_asked(client, tmp_path):
    """HEIC in, JPEG out at quality 90: upright, the profile byte for byte, camera tags kept, the location removed (the
    tab's default), the width asked; the same file through /derain as WebP, the location kept when asked."""
    from gradio_client import handle_file

    from .photo_files import CAMERA, XMP, heic_photo, rgb_profile
    from .test_photo_files import assert_camera_tags_kept, exif_of, xmp_of

    upload = write_upload(tmp_path, "IMG_0001.HEIC", heic_photo())
    (before, after), result, summary = client.predict(
        handle_file(upload), "photo-x4", 4, None, None, None, 96, None, "jpeg", 90, api_name="/upscale")
    image = Image.open(result)
    assert result.endswith("IMG_0001-x2.jpg") and image.format == "JPEG" and image.size == (96, 64)
    assert Image.open(after).size == Image.open(before).size == (96, 64)
    assert image.info["icc_profile"] == rgb_profile() and not exif_of(image)["gps"] and b"GPS" not in xmp_of(image)
    assert_camera_tags_kept(image)
    assert "48x32 → **96x64** (x2)" in summary
    _, result, summary = client.predict(handle_file(upload), "derain-idcgan", 1.0, "webp", 80, False, api_name="/derain")
    image = Image.open(result)
    assert image.format == "WEBP" and image.size == (48, 32) and exif_of(image)["gps"] and xmp_of(image) == XMP
    assert {tag: exif_of(image)["ifd0"][tag] for tag in CAMERA} == CAMERA


def test_the_photo_tabs_refuse_what_a_format_or_size_cannot_do_and_keep_serving(client, tmp_path):
    import zipfile

    import numpy as np
    from gradio_client import handle_file

    from .photo_files import soft_logo

    logo = write_upload(tmp_path, "logo.png", Image.fromarray(soft_logo(16)))
    with pytest.raises(Exception, match="JPEG cannot hold transparency"):
        client.predict(handle_file(logo), "bicubic", 2, None, None, None, None, None, "jpeg", api_name="/upscale")
    with pytest.raises(Exception, match="width 1000 is 62.5 times this 16x16 photo"):
        client.predict(handle_file(logo), "bicubic", 2, None, None, None, 1000, api_name="/upscale")
    with pytest.raises(Exception, match="unknown file format 'gif'"):
        client.predict(handle_file(logo), "derain-idcgan", 1.0, "gif", api_name="/derain")
    photo = write_upload(tmp_path, "photo.png", Image.fromarray(np.full((8, 12, 3), 90, np.uint8)))
    gallery, archive, summary = client.predict([handle_file(photo), handle_file(logo)], "bicubic", 2, None, None, None,
                                               None, 20, "jpeg", 90, api_name="/upscale_batch")
    assert "1 of 2 done" in summary and "logo.png**: error: JPEG cannot hold transparency" in summary
    assert zipfile.ZipFile(archive).namelist() == ["photo-20h.jpg"]
    _, png, _ = client.predict(handle_file(logo), "bicubic", 2, api_name="/upscale")  # PNG keeps the alpha
    assert Image.open(png).mode == "RGBA"


def test_a_batch_of_every_kind_of_file_comes_back_in_a_zip_named_as_uploaded(client, tmp_path):
    """A camera JPEG, a CMYK JPEG with its profile, a 16-bit TIFF and a broken file, as TIFF: the broken one named, the
    rest whole (16 bits kept, the CMYK converted through its profile, EXIF with the location removed)."""
    import io
    import zipfile

    import cv2
    import numpy as np
    from gradio_client import handle_file

    from .photo_files import camera_photo, cmyk_photo, rgb_profile, sixteen_bit
    from .test_photo_files import assert_camera_tags_kept, exif_of

    uploads = [write_upload(tmp_path, "IMG_0002.JPG", camera_photo()),
               write_upload(tmp_path, "print.jpg", cmyk_photo()[0]),
               write_upload(tmp_path, "scan.tif", cv2.imencode(".tif", sixteen_bit())[1].tobytes()),
               write_upload(tmp_path, "broken.jpg", camera_photo()[:500])]
    gallery, archive, summary = client.predict([handle_file(u) for u in uploads], "derain-idcgan", 1.0, "tiff",
                                               api_name="/derain_batch")
    assert "3 of 4 done" in summary and "broken.jpg**: error: the image file is truncated or corrupt" in summary
    bundle = zipfile.ZipFile(archive)
    assert bundle.namelist() == ["IMG_0002-derained.tif", "print-derained.tif", "scan-derained.tif"]
    camera = Image.open(io.BytesIO(bundle.read("IMG_0002-derained.tif")))
    assert camera.size == (48, 32) and camera.info["icc_profile"] == rgb_profile() and not exif_of(camera)["gps"]
    assert_camera_tags_kept(camera)
    scan = cv2.imdecode(np.frombuffer(bundle.read("scan-derained.tif"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert scan.dtype == np.uint16 and scan.shape == (14, 20, 3)
    assert Image.open(io.BytesIO(bundle.read("print-derained.tif"))).mode == "RGB"


def test_models_side_by_side_on_one_photo(client, tmp_path):
    import zipfile

    import numpy as np
    from gradio_client import handle_file

    upload = write_upload(tmp_path, "street.png", Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)))
    sheet, gallery, archive, table = client.predict(handle_file(upload), ["srresnet-x4", "bicubic"], 2,
                                                    api_name="/upscale_compare")
    assert zipfile.ZipFile(archive).namelist() == ["street-srresnet-x4.png", "street-bicubic.png"]
    sizes = {Image.open(zipfile.ZipFile(archive).open(name)).size for name in zipfile.ZipFile(archive).namelist()}
    assert sizes == {(60, 40)} and len(gallery) == 2 and "| srresnet-x4 | 60x40 |" in table
    assert Image.open(sheet).width > 3 * 60  # the photo, then each result
    sheet, gallery, archive, table = client.predict(handle_file(upload), ["derain-idcgan-ssim", "derain-idcgan"], 0.5, "jpeg", 90,
                                                    api_name="/derain_compare")
    assert zipfile.ZipFile(archive).namelist() == ["street-derain-idcgan-ssim.jpg", "street-derain-idcgan.jpg"]
    assert "strength 0.5" in table
    with pytest.raises(Exception, match="compare 2 to 4 models, got 1"):
        client.predict(handle_file(upload), ["derain-idcgan"], api_name="/derain_compare")


def test_derain_takes_another_project_s_deraining_checkpoint_and_refuses_an_upscaler(client, tmp_path):
    import numpy as np
    from gradio_client import handle_file

    from .test_foreign import network
    from .test_foreign import save as save_upscaler
    from .test_foreign_derain import rainy, saved, tiny

    upload = write_upload(tmp_path, "street.png", Image.fromarray(rainy()))
    kbnet = saved(tiny("KBNet"), tmp_path / "kbnet.safetensors")
    _, result, summary = client.predict(handle_file(upload), "derain-idcgan", 1.0, "png", 95, True, handle_file(kbnet),
                                        api_name="/derain")
    assert Image.open(result).size == (19, 13) and "derained with kbnet.safetensors (KBNet x1" in summary
    assert np.asarray(Image.open(result)).shape == rainy().shape
    upscaler = save_upscaler(network("Compact"), tmp_path / "compact.pth")
    with pytest.raises(Exception, match="not a deraining model: upscale takes it"):
        client.predict(handle_file(upload), "derain-idcgan", 1.0, "png", 95, True, handle_file(upscaler), api_name="/derain")
