import io
import struct
import unittest
import zlib
from unittest import mock

import numpy as np
import torch
from PIL import Image

from fluxbot_klein import images
from fluxbot_klein.errors import RequestError
from fluxbot_klein.images import decode_reference, encode_image


def _file(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _halves(w, h, left=(255, 0, 0), right=(0, 0, 255)):
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    arr[:, : w // 2] = left
    arr[:, w // 2:] = right
    return Image.fromarray(arr, "RGB")


def _png_header_only(w, h):
    """A PNG whose header claims w x h, with a token IDAT: enough for Pillow to open it."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def _rgb_at(x, row, col):
    """Pixel (row, col) of a [-1, 1] tensor [3, H, W] as 0..255 integers."""
    return tuple(int(round(float(v))) for v in (x[:, row, col] + 1) / 2 * 255)


class DecodeReferenceTest(unittest.TestCase):
    def test_each_format_decodes(self):
        src = _halves(64, 48)
        for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 98}), ("WEBP", {"lossless": True}), ("GIF", {})):
            with self.subTest(fmt=fmt):
                x = decode_reference(_file(src, fmt, **kw), "references[0]")
                self.assertEqual(x.dtype, torch.float32)
                self.assertEqual(tuple(x.shape), (3, 48, 64))
                self.assertGreaterEqual(float(x.min()), -1.0)
                self.assertLessEqual(float(x.max()), 1.0)
                r, g, b = _rgb_at(x, 10, 8)
                self.assertGreater(r, 230)
                self.assertLess(b, 25)
                r, g, b = _rgb_at(x, 10, 56)
                self.assertLess(r, 25)
                self.assertGreater(b, 230)

    def test_png_values_exact(self):
        arr = np.random.RandomState(0).randint(0, 256, size=(32, 48, 3)).astype(np.uint8)
        x = decode_reference(_file(Image.fromarray(arr), "PNG"), "r")
        expected = torch.from_numpy(arr).permute(2, 0, 1).float() / 255 * 2 - 1
        self.assertTrue(torch.equal(x, expected))

    def test_gif_first_frame(self):
        red = Image.new("RGB", (32, 32), (255, 0, 0))
        green = Image.new("RGB", (32, 32), (0, 255, 0))
        data = _file(red, "GIF", save_all=True, append_images=[green], duration=100, loop=0)
        x = decode_reference(data, "references[1]")
        self.assertEqual(_rgb_at(x, 5, 5), (255, 0, 0))

    def test_exif_rotated_jpeg_comes_out_rotated(self):
        src = _halves(64, 32)  # stored landscape: red left, blue right
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
        x = decode_reference(_file(src, "JPEG", quality=95, exif=exif.tobytes()), "references[0]")
        self.assertEqual(tuple(x.shape), (3, 64, 32))  # displayed portrait
        top, bottom = _rgb_at(x, 8, 16), _rgb_at(x, 56, 16)
        self.assertGreater(top[0], 230)  # the stored left (red) is on top after the rotation
        self.assertGreater(bottom[2], 230)

    def test_rgba_composited_over_white(self):
        arr = np.zeros((32, 32, 4), dtype=np.uint8)
        arr[:, :16] = (255, 0, 0, 0)  # fully transparent red: white
        arr[:, 16:] = (0, 0, 255, 255)  # opaque blue: blue
        arr[:8, 16:] = (0, 0, 0, 128)  # half-transparent black: mid grey
        x = decode_reference(_file(Image.fromarray(arr, "RGBA"), "PNG"), "r")
        self.assertEqual(tuple(x.shape), (3, 32, 32))
        self.assertEqual(_rgb_at(x, 20, 4), (255, 255, 255))
        self.assertEqual(_rgb_at(x, 20, 20), (0, 0, 255))
        grey = _rgb_at(x, 4, 20)
        for v in grey:
            self.assertTrue(120 <= v <= 135, grey)

    def test_palette_transparency_over_white(self):
        img = Image.new("P", (16, 16), 0)
        img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
        img.paste(1, (8, 0, 16, 16))
        data = _file(img, "PNG", transparency=0)
        x = decode_reference(data, "r")
        self.assertEqual(_rgb_at(x, 4, 2), (255, 255, 255))
        self.assertEqual(_rgb_at(x, 4, 12), (255, 0, 0))

    def test_large_image_downscaled_with_sides_of_16(self):
        arr = np.zeros((1000, 3000, 3), dtype=np.uint8)
        arr[..., 0] = np.linspace(0, 255, 3000, dtype=np.float64).astype(np.uint8)[None, :]
        data = _file(Image.fromarray(arr), "PNG")
        for max_pixels in (1024 * 1024, 200_000):
            with self.subTest(max_pixels=max_pixels):
                x = decode_reference(data, "r", max_pixels=max_pixels)
                _, h, w = x.shape
                self.assertLessEqual(h * w, max_pixels)
                self.assertEqual(h % 16, 0)
                self.assertEqual(w % 16, 0)
                self.assertGreater(h * w, max_pixels * 0.9)
                self.assertAlmostEqual(w / h, 3.0, delta=0.1)
                # the gradient survives: dark on the left, bright on the right
                self.assertLess(float(x[0, h // 2, 0]), -0.9)
                self.assertGreater(float(x[0, h // 2, -1]), 0.9)

    def test_crop_to_multiples_of_16_is_centred(self):
        arr = np.full((40, 70, 3), 255, dtype=np.uint8)
        arr[:4] = 0  # a black band at the top: cropped away (40 -> 32 removes 4 rows per side)
        x = decode_reference(_file(Image.fromarray(arr), "PNG"), "r")
        self.assertEqual(tuple(x.shape), (3, 32, 64))
        self.assertEqual(float(x.min()), 1.0)

    def test_tiny_image_scaled_up_to_16(self):
        x = decode_reference(_file(Image.new("RGB", (5, 10), (0, 255, 0)), "PNG"), "r")
        self.assertEqual(tuple(x.shape), (3, 32, 16))
        self.assertEqual(_rgb_at(x, 3, 3), (0, 255, 0))

    def test_garbage_bytes_are_bad_image_naming_the_field(self):
        for data in (b"this is not an image at all", b"", _file(_halves(32, 32), "PNG")[:60], b"BM" + b"\x00" * 100):
            with self.subTest(data=data[:10]):
                with self.assertRaises(RequestError) as ctx:
                    decode_reference(data, "references[2]")
                err = ctx.exception
                self.assertEqual(err.code, "bad_image")
                self.assertEqual(err.field, "references[2]")
                self.assertIn("references[2]", err.message)
                self.assertIn("PNG, JPEG, WebP", err.message)
                self.assertEqual(err.to_event()["field"], "references[2]")

    def test_decompression_bomb_refused_before_decoding(self):
        with self.assertRaises(RequestError) as ctx:
            decode_reference(_png_header_only(30000, 30000), "references[0]")
        self.assertEqual(ctx.exception.code, "bad_image")
        self.assertIn("too large", ctx.exception.message)
        with self.assertRaises(RequestError) as ctx:
            decode_reference(_png_header_only(9000, 9000), "references[0]")
        self.assertIn("9000x9000", ctx.exception.message)
        self.assertIn("too large", ctx.exception.message)

    def test_zero_size_refused(self):
        with self.assertRaises(RequestError) as ctx:
            decode_reference(_png_header_only(0, 64), "references[0]")
        self.assertEqual(ctx.exception.code, "bad_image")

    def test_extreme_aspect_ratio_refused(self):
        data = _file(Image.new("RGB", (4000, 2), (0, 0, 0)), "PNG")
        with self.assertRaises(RequestError) as ctx:
            decode_reference(data, "references[0]", max_pixels=16 * 1024)
        self.assertEqual(ctx.exception.code, "bad_image")
        self.assertIn("4000x2", ctx.exception.message)


class EncodeImageTest(unittest.TestCase):
    def test_png_round_trip_within_one_step(self):
        x = torch.rand(3, 32, 48) * 2 - 1
        data = encode_image(x, "png")
        self.assertTrue(data.startswith(b"\x89PNG"))
        back = decode_reference(data, "r")
        self.assertLessEqual(float((back - x).abs().max()), 1 / 255 + 1e-6)

    def test_quantisation_matches_reference_pipelines(self):
        x = torch.tensor([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]).view(1, 1, 6).expand(3, 1, 6)
        arr = np.asarray(Image.open(io.BytesIO(encode_image(x, "png"))))
        expected = np.round(np.clip(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]) / 2 + 0.5, 0, 1) * 255)
        self.assertEqual(arr[0, :, 0].tolist(), expected.astype(int).tolist())
        self.assertEqual(arr[0, :, 0].tolist(), [0, 0, 128, 191, 255, 255])

    def test_jpeg_and_webp(self):
        x = decode_reference(_file(_halves(64, 32), "PNG"), "r")
        jpeg = encode_image(x, "jpeg")
        self.assertTrue(jpeg.startswith(b"\xff\xd8"))
        self.assertEqual(Image.open(io.BytesIO(jpeg)).format, "JPEG")
        self.assertLess(float((decode_reference(jpeg, "r") - x).abs().mean()), 0.02)
        self.assertEqual(encode_image(x, "JPG")[:2], b"\xff\xd8")
        webp = encode_image(x, "webp")
        self.assertEqual(webp[:4], b"RIFF")
        self.assertEqual(webp[8:12], b"WEBP")
        self.assertLess(float((decode_reference(webp, "r") - x).abs().mean()), 0.03)

    def test_unknown_format_and_missing_webp(self):
        x = torch.zeros(3, 16, 16)
        with self.assertRaises(RequestError) as ctx:
            encode_image(x, "bmp")
        self.assertEqual((ctx.exception.code, ctx.exception.field), ("invalid_request", "output_format"))
        self.assertIn("bmp", ctx.exception.message)
        with mock.patch.object(images, "webp_supported", return_value=False):
            with self.assertRaises(RequestError) as ctx:
                encode_image(x, "webp")
            self.assertEqual((ctx.exception.code, ctx.exception.field), ("invalid_request", "output_format"))
            self.assertIn("png or jpeg", ctx.exception.message)
            self.assertTrue(encode_image(x, "png").startswith(b"\x89PNG"))

    def test_shape_checked(self):
        with self.assertRaises(ValueError):
            encode_image(torch.zeros(1, 3, 16, 16), "png")


if __name__ == "__main__":
    unittest.main()
