"""Clips through the photo verbs (ganapps.video): frames, timing, sound, rotation, colour and metadata kept; a stopped run
resumed to the same bytes; the time axis against rain; bad videos refused with one clear line."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from ganapps import photos, rain, video

from .conftest import ROOT
from .video_files import decoded, make_clip, scene, streams

pytest.importorskip("av")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """30 frames at 24 fps, 48x32, sound, shown rotated 90 degrees, BT.709, with a place and a title."""
    return make_clip(tmp_path_factory.mktemp("clips") / "street.mp4", frames=30, rotation=90,
                     metadata={"location": "+48.8584+002.2945/", "title": "street"})


def test_an_upscaled_clip_keeps_its_frames_timing_sound_rotation_colour_and_metadata(clip, tmp_path):
    result = video.upscale_video(clip, tmp_path / "big.mp4", model="photo-x4", scale=2)
    assert (result.width, result.height, result.frames, result.rate) == (96, 64, 30, 24)
    assert result.copied == ("audio aac",)
    before, after = streams(clip), streams(result.path)
    assert after["video"][0] == "h264" and abs(after["audio"][1] - before["audio"][1]) < 0.01
    assert after["rotation"] == 90 and after["colour"] == before["colour"] == (1, 1, 1, 1)
    assert after["metadata"]["title"] == "street" and after["metadata"]["location"].startswith("+48.8584")
    frames, source = decoded(result.path), decoded(clip)
    assert [t for t, _ in frames] == [t for t, _ in source]
    expected = photos.upscale(source[24][1], model="photo-x4", scale=2).to_array()  # the photo verb on decoded frame 24
    assert frames[24][1].shape == expected.shape and psnr(frames[24][1], expected) >= 33
    assert 0 < result.flicker_ratio < 1.5


def test_a_derained_clip_is_the_photo_verb_frame_by_frame_at_its_own_size(clip, tmp_path):
    result = video.derain_video(clip, tmp_path / "dry.mkv", strength=0.8, metadata="drop-gps")
    assert (result.width, result.height, result.frames) == (48, 32, 30)
    after = streams(result.path)
    assert after["video"][0] == "h264" and "audio" in after and after["rotation"] == 90
    assert not any(key.lower().startswith("location") for key in after["metadata"])
    source = decoded(clip)
    expected = photos.derain(source[24][1], strength=0.8).to_array()
    assert psnr(decoded(result.path)[24][1], expected) >= 33


def test_a_variable_frame_rate_keeps_every_frame_s_time(tmp_path):
    times = [0, 1, 2, 4, 5, 9, 10, 11]
    clip = make_clip(tmp_path / "vfr.mp4", frames=len(times), times=times)
    result = video.upscale_video(clip, tmp_path / "out.mp4", model="bicubic", scale=1.5)
    assert [round(t * 24) for t, _ in decoded(result.path)] == times
    assert (result.width, result.height) == (72, 48)


def test_sides_that_would_be_odd_are_made_even_and_an_odd_clip_is_derained_in_444(tmp_path):
    clip = make_clip(tmp_path / "even.mp4", frames=3)
    assert video.upscale_video(clip, tmp_path / "a.mp4", model="bicubic", scale=1.1).width == 52  # 52.8 -> 52, 35.2 -> 36
    odd = make_clip(tmp_path / "odd.mp4", frames=3, width=47, height=33, pix_fmt="yuv444p", audio=False)
    result = video.derain_video(odd, tmp_path / "b.mp4")
    assert (result.width, result.height) == (47, 33) and "4:4:4" in result.summary()
    assert decoded(result.path)[0][1].shape == (33, 47, 3)


def test_a_stopped_run_resumes_to_the_same_bytes(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(video, "SEGMENT_SECONDS", 0.25)  # segments of 6 frames
    whole = video.derain_video(clip, tmp_path / "whole.mp4", temporal=1)

    def stop(done, total):
        if done == 15:
            raise KeyboardInterrupt

    target = tmp_path / "stopped.mp4"
    with pytest.raises(KeyboardInterrupt):
        video.derain_video(clip, target, temporal=1, progress=stop)
    parts = target.with_name("stopped.mp4.parts")
    assert sorted(p.name for p in parts.iterdir()) == ["job.json", "segment-00000.mp4", "segment-00001.mp4"]
    assert not target.exists()
    resumed = video.derain_video(clip, target, temporal=1)
    assert resumed.resumed == 12 and not parts.exists()
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(whole.path.read_bytes()).digest()
    with pytest.raises(KeyboardInterrupt):
        video.derain_video(clip, target, temporal=1, progress=stop)
    assert video.derain_video(clip, target, temporal=0).resumed == 0  # other settings: started afresh


def test_neighbouring_frames_take_away_rain_that_one_frame_leaves(tmp_path):
    """A static street in moving rain (rain.py, new drops every frame): using two frames on each side removes more."""
    from skimage import data

    street = np.asarray(data.astronaut()[::4, ::4][:96, :112])
    params = rain.RainParams(amount=0.6, length=12, width=1.0, brightness=0.7, layers=2)
    frames = [(rain.add_rain(street, params, seed=index) * 255).round().astype(np.uint8) for index in range(7)]
    clip = make_clip(tmp_path / "rain.mp4", frames=7, width=112, height=96, audio=False, scenes=lambda i: frames[i])
    alone = decoded(video.derain_video(clip, tmp_path / "alone.mp4").path)
    together = decoded(video.derain_video(clip, tmp_path / "together.mp4", temporal=2).path)
    gain = [psnr(b, street) - psnr(a, street) for (_, a), (_, b) in zip(alone, together)]
    assert np.mean(gain) > 0.5, gain


def test_temporal_fusion_follows_a_panning_camera():
    rng = np.random.default_rng(0)
    wide = rng.random((40, 80, 3)).astype(np.float32)
    frames = [wide[:, 10 + 2 * k: 50 + 2 * k].copy() for k in range(5)]  # the camera pans 2 pixels a frame
    frames[2][5:9, 10:30] += 0.5  # a streak in the middle frame only
    assert np.abs(video.temporal_fuse(frames, 2) - wide[:, 14:54]).max() < 1e-6
    noisy = [frame + rng.normal(0, 0.01, frame.shape).astype(np.float32) for frame in frames]  # detail drawn anew
    steady = video.temporal_fuse(noisy, 2, "steady")
    assert (steady - wide[:, 14:54])[5:9, 10:30].min() > 0.45  # the streak, which moved on its own, kept
    quiet = np.abs(steady - wide[:, 14:54])[10:, 4:36]
    assert quiet.mean() < 0.6 * np.abs(noisy[2] - wide[:, 14:54])[10:, 4:36].mean()  # the noise averaged


def test_upscaling_with_neighbouring_frames_flickers_less(tmp_path):
    """A still camera whose frames carry fresh sensor noise: the steadied upscale changes less from frame to frame."""
    rng = np.random.default_rng(4)
    still = scene(0, 48, 32).astype(float)
    frames = [np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8) for _ in range(8)]
    clip = make_clip(tmp_path / "still.mp4", frames=8, audio=False, scenes=lambda i: frames[i])
    alone = video.upscale_video(clip, tmp_path / "alone.mp4", model="photo-x4", scale=2, temporal=0)
    steady = video.upscale_video(clip, tmp_path / "steady.mp4", model="photo-x4", scale=2)  # temporal=1 by default
    assert steady.flicker < 0.8 * alone.flicker, (steady.flicker, alone.flicker)


def test_subtitles_are_copied_and_a_container_that_cannot_hold_them_is_refused_before_any_work(tmp_path):
    import av

    clip = make_clip(tmp_path / "talk.mkv", frames=6, subtitle="Mind the puddles")
    result = video.upscale_video(clip, tmp_path / "out" / "talk.mkv", model="bicubic", scale=2)
    assert result.copied == ("audio aac", "subtitle srt")
    with av.open(str(result.path)) as container:
        lines = [(bytes(p), p.pts) for p in container.demux(container.streams.subtitles[0]) if p.size]
    assert lines == [(b"Mind the puddles", 100)]
    with pytest.raises(ValueError, match=r"the clip has subtitle srt, which mp4 cannot hold; choose the mkv container"):
        video.upscale_video(clip, tmp_path / "out" / "talk.mp4", model="bicubic", scale=2)
    assert not (tmp_path / "out" / "talk.mp4.parts").exists()


def test_bad_videos_get_one_clear_line(clip, tmp_path):
    from PIL import Image

    (tmp_path / "text.mp4").write_text("not a video at all" * 50)
    with pytest.raises(ValueError, match=r"^not a video \(FFmpeg cannot read it"):
        video.derain_video(tmp_path / "text.mp4", tmp_path / "a.mp4")
    (tmp_path / "cut.mp4").write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(ValueError, match="^truncated or corrupt: it starts as an MP4/MOV file"):
        video.upscale_video(tmp_path / "cut.mp4", tmp_path / "b.mp4", model="bicubic")
    Image.new("RGB", (8, 8)).save(tmp_path / "still.png")
    with pytest.raises(ValueError, match="a still image, not a video"):
        video.probe(tmp_path / "still.png")
    with pytest.raises(ValueError, match=r"its frames are 48x32 = 0.0 megapixels; the limit is 0.0"):
        video.probe(clip, max_pixels=1000)
    with pytest.raises(ValueError, match="no video stream"):
        video.probe(_sound_only(tmp_path / "song.m4a"))
    with pytest.raises(ValueError, match=r"crf for h264 must be a whole number in 0..51"):
        video.upscale_video(clip, tmp_path / "c.mp4", model="bicubic", crf=80)
    with pytest.raises(ValueError, match="webm holds vp9 or av1 video, not h264"):
        video.upscale_video(clip, tmp_path / "c.webm", model="bicubic")
    with pytest.raises(ValueError, match="the clip has audio aac, which webm cannot hold"):
        video.upscale_video(clip, tmp_path / "c.webm", model="bicubic", codec="vp9")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "song.m4a", "still.png", "text.mp4"]  # nothing left


def _sound_only(path):
    import av

    with av.open(str(path), "w") as container:
        sound = container.add_stream("aac", rate=48000)
        sound.layout = "mono"
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        chunk.sample_rate, chunk.pts = 48000, 0
        for packet in [*sound.encode(chunk), *sound.encode()]:
            container.mux(packet)
    return path


def test_the_command_line_takes_clips_beside_photos_and_in_folders(clip, tmp_path):
    import shutil

    from PIL import Image

    (tmp_path / "trip" / "day1").mkdir(parents=True)
    Image.fromarray(scene(0, 20, 16)).save(tmp_path / "trip" / "photo.png")
    shutil.copy(clip, tmp_path / "trip" / "day1" / "street.mp4")
    (tmp_path / "broken.mov").write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(100))
    done = subprocess.run([sys.executable, "-m", "ganapps", "upscale", str(tmp_path / "trip"), str(tmp_path / "broken.mov"),
                           "--model", "bicubic", "--scale", "2", "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "broken.mov: truncated or corrupt: it starts as an MP4/MOV file" in done.stderr
    assert "2 done, 1 failed (of 3 photos and videos)" in done.stderr
    assert streams(tmp_path / "out" / "day1" / "street.mp4")["video"][0] == "h264"
    assert (tmp_path / "out" / "photo.png").is_file()


@pytest.mark.slow
def test_the_launched_app_upscales_and_derains_a_clip_and_refuses_a_bad_one(app_url, clip, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    shown, download, summary = client.predict(handle_file(str(clip)), "bicubic", 2, api_name="/upscale_video")
    shown = shown["video"] if isinstance(shown, dict) else shown
    after = streams(download)
    assert after["video"][0] == "h264" and "audio" in after and after["rotation"] == 90
    assert decoded(shown)[0][1].shape == (64, 96, 3) and "96x64, 30 frames at 24 fps" in summary
    _, download, summary = client.predict(handle_file(str(clip)), "derain-idcgan-ssim", 1.0, 1, api_name="/derain_video")
    assert len(decoded(download)) == 30 and "copied: audio aac" in summary
    (tmp_path / "notes.mp4").write_text("meeting notes " * 40)
    with pytest.raises(Exception, match="not a video"):
        client.predict(handle_file(str(tmp_path / "notes.mp4")), "bicubic", 2, api_name="/upscale_video")
    long = make_clip(tmp_path / "long.mp4", frames=24 * 6, width=16, height=16, audio=False)
    with pytest.raises(Exception, match=r"the clip is 6.0 s long; the app takes up to 5 s .* python -m ganapps derain"):
        client.predict(handle_file(str(long)), api_name="/derain_video")
    wide = make_clip(tmp_path / "wide.mp4", frames=2, width=700, height=360, audio=False)
    with pytest.raises(Exception, match=r"the clip is 700x360; the app takes up to 5 s and 640x360"):
        client.predict(handle_file(str(wide)), "bicubic", 2, api_name="/upscale_video")
    talk = make_clip(tmp_path / "talk.mkv", frames=6, subtitle="Mind the puddles")
    _, download, summary = client.predict(handle_file(str(talk)), "bicubic", 2, api_name="/upscale_video")
    assert download.endswith(".mkv") and streams(download)["subtitle"][0] == "srt" and "MP4 cannot hold" in summary
    assert client.predict(4, 7, api_name="/dcgan_sample")  # still serving
