// cvshim.cpp - decoding, encoding, geometry, drawing and the Haar cascade.
#include <cstdlib>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <vector>

#include "cvshim_internal.hpp"

using pwcv::guard;
using pwcv::wrap;

struct pw_cv_cascade {
    cv::CascadeClassifier classifier;
};

namespace {

bool tail_contains(const uint8_t *buf, size_t len, size_t window, const uint8_t *needle, size_t nlen)
{
    size_t start = len > window ? len - window : 0;
    for (size_t i = start; i + nlen <= len; i++)
        if (std::memcmp(buf + i, needle, nlen) == 0)
            return true;
    return false;
}

// libjpeg and libpng decode a cut-off file into a partly grey picture with
// only a warning, so a truncated file must be recognised before decoding:
// a JPEG ends with the EOI marker, a PNG with its IEND chunk.
bool looks_truncated(const uint8_t *buf, size_t len)
{
    static const uint8_t jpeg_magic[] = {0xFF, 0xD8, 0xFF};
    static const uint8_t jpeg_eoi[] = {0xFF, 0xD9};
    static const uint8_t png_magic[] = {0x89, 'P', 'N', 'G'};
    static const uint8_t png_iend[] = {'I', 'E', 'N', 'D'};
    if (len >= 3 && std::memcmp(buf, jpeg_magic, 3) == 0) {
        // Some cameras pad a finished JPEG with zero bytes after its end marker.
        size_t end = len;
        while (end > 2 && buf[end - 1] == 0x00)
            end--;
        return !tail_contains(buf, end, 1024, jpeg_eoi, 2);
    }
    if (len >= 4 && std::memcmp(buf, png_magic, 4) == 0)
        return !tail_contains(buf, len, 64, png_iend, 4);
    return false;
}

uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

uint32_t be32(const uint8_t *p)
{
    return be16(p) << 16 | be16(p + 2);
}

// Reads the pixel size a PNG or JPEG header announces, so that a hostile or
// broken header cannot make the decoder allocate gigabytes. Returns false
// when the size is not found (other formats are left to OpenCV's limits).
bool header_size(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
    static const uint8_t png_magic[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (len >= 24 && std::memcmp(buf, png_magic, 8) == 0 && std::memcmp(buf + 12, "IHDR", 4) == 0) {
        *w = be32(buf + 16);
        *h = be32(buf + 20);
        return true;
    }
    if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8)
        return false;
    // The marker segments are walked as libjpeg walks them: bytes that are
    // not a marker are skipped up to the next 0xFF (libjpeg warns and goes
    // on), so a wrong segment length cannot hide the frame header it uses.
    for (size_t i = 2; i + 1 < len;) {
        if (buf[i] != 0xFF || buf[i + 1] == 0xFF || buf[i + 1] == 0x00) {
            i++;
            continue;
        }
        uint8_t m = buf[i + 1];
        if (m == 0xDA || m == 0xD9)
            return false; /* scan data or the end came before any frame header */
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            i += 2; /* markers without a length */
            continue;
        }
        bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof && i + 9 <= len) {
            *h = be16(buf + i + 5);
            *w = be16(buf + i + 7);
            return true;
        }
        if (i + 4 > len)
            return false;
        i += 2 + be16(buf + i + 2);
    }
    return false;
}

// Only the formats cameras and archives deliver are decoded. OpenCV would
// otherwise also hand unknown bytes to GDAL, which writes each attempt to a
// temporary file.
bool known_format(const uint8_t *buf, size_t len)
{
    if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
        return true; /* JPEG */
    if (len >= 8 && std::memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
        return true;
    if (len >= 2 && buf[0] == 'B' && buf[1] == 'M')
        return true; /* BMP */
    if (len >= 2 && buf[0] == 'P' && buf[1] >= '1' && buf[1] <= '6')
        return true; /* PBM, PGM, PPM */
    if (len >= 4 && (std::memcmp(buf, "II*\0", 4) == 0 || std::memcmp(buf, "MM\0*", 4) == 0))
        return true; /* TIFF */
    return len >= 12 && std::memcmp(buf, "RIFF", 4) == 0 && std::memcmp(buf + 8, "WEBP", 4) == 0;
}

int copy_to_image(const cv::Mat &m, pw_image **out)
{
    pw_image *img = nullptr;
    int rc = pw_image_new(m.cols, m.rows, m.channels(), &img);
    if (rc < 0)
        return rc;
    pw_plane p = pw_image_plane(img);
    m.copyTo(wrap(&p));
    *out = img;
    return 0;
}

}  // namespace

extern "C" int pw_cv_decode(const uint8_t *buf, size_t len, pw_image **grey, pw_image **bgr, pw_err *err)
{
    if (grey)
        *grey = nullptr;
    if (bgr)
        *bgr = nullptr;
    if (!buf || len == 0)
        return pw_err_set(err, PW_EEMPTYIMG, "file is empty (0 bytes)");
    if (!known_format(buf, len))
        return pw_err_set(err, PW_EDECODE, "not a JPEG, PNG, BMP, PNM, TIFF or WebP image (%zu bytes)", len);
    if (looks_truncated(buf, len))
        return pw_err_set(err, PW_ETRUNCATED, "file ends before the image's end marker (%zu bytes)", len);
    uint32_t hw = 0, hh = 0;
    if (header_size(buf, len, &hw, &hh)) {
        if (hw == 0 || hh == 0)
            return pw_err_set(err, PW_EEMPTYIMG, "header announces a %ux%u image", hw, hh);
        if (hw > PW_MAX_IMAGE_SIDE || hh > PW_MAX_IMAGE_SIDE)
            return pw_err_set(err, PW_ETOOBIG, "header announces %ux%u pixels, above the %d-pixel limit", hw,
                              hh, PW_MAX_IMAGE_SIDE);
    }
    int rc = guard([&]() -> int {
        cv::Mat raw(1, (int)len, CV_8UC1, const_cast<uint8_t *>(buf));
        /*
         * Without a colour copy wanted, the decoder gives grey itself: JPEG
         * then skips its chroma planes and colour conversion altogether.
         */
        cv::Mat colour = cv::imdecode(raw, bgr ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
        if (colour.empty())
            return PW_EDECODE;
        if (colour.cols > PW_MAX_IMAGE_SIDE || colour.rows > PW_MAX_IMAGE_SIDE)
            return PW_ETOOBIG;
        if (bgr) {
            int r = copy_to_image(colour, bgr);
            if (r < 0)
                return r;
        }
        if (grey && !bgr)
            return copy_to_image(colour, grey);
        if (grey) {
            cv::Mat g;
            cv::cvtColor(colour, g, cv::COLOR_BGR2GRAY);
            int r = copy_to_image(g, grey);
            if (r < 0)
                return r;
        }
        return 0;
    });
    if (rc < 0) {
        if (grey)
            pw_image_destroy(grey);
        if (bgr)
            pw_image_destroy(bgr);
        if (rc == PW_EDECODE)
            return pw_err_set(err, rc, "no image decoder recognises these %zu bytes", len);
        return pw_err_set(err, rc, "decoding failed: %s", pw_strerror(rc));
    }
    return 0;
}

extern "C" int pw_cv_encode(const pw_plane *src, const char *ext, int quality, uint8_t **out, size_t *len)
{
    if (!out || !len || !ext || pw_plane_check(src) < 0)
        return -EINVAL;
    *out = nullptr;
    *len = 0;
    return guard([&]() -> int {
        std::vector<uchar> bytes;
        std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, quality};
        if (!cv::imencode(ext, wrap(src), bytes, params))
            return PW_ECV;
        uint8_t *copy = static_cast<uint8_t *>(std::malloc(bytes.size()));
        if (!copy)
            return -ENOMEM;
        std::memcpy(copy, bytes.data(), bytes.size());
        *out = copy;
        *len = bytes.size();
        return 0;
    });
}

extern "C" int pw_cv_write_file(const pw_plane *src, const char *path, pw_err *err)
{
    if (!path || pw_plane_check(src) < 0)
        return pw_err_set(err, -EINVAL, "invalid image or path");
    int rc = guard([&]() -> int { return cv::imwrite(path, wrap(src)) ? 0 : -EIO; });
    if (rc < 0)
        return pw_err_set(err, rc, "%s: cannot write image: %s", path, pw_strerror(rc));
    return 0;
}

extern "C" int pw_cv_warp_quad(const pw_plane *src, const float quad[8], pw_plane *dst)
{
    if (!quad || pw_plane_check(src) < 0 || pw_plane_check(dst) < 0 || src->channels != dst->channels)
        return -EINVAL;
    return guard([&]() -> int {
        cv::Point2f from[4], to[4];
        for (int i = 0; i < 4; i++)
            from[i] = cv::Point2f(quad[2 * i], quad[2 * i + 1]);
        to[0] = cv::Point2f(0, 0);
        to[1] = cv::Point2f((float)dst->width, 0);
        to[2] = cv::Point2f((float)dst->width, (float)dst->height);
        to[3] = cv::Point2f(0, (float)dst->height);
        cv::Mat h = cv::getPerspectiveTransform(from, to);
        cv::Mat out = wrap(dst);
        cv::warpPerspective(wrap(src), out, h, out.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        return 0;
    });
}

extern "C" int pw_cv_warp_affine(const pw_plane *src, const double m[6], int border_value, pw_plane *dst)
{
    if (!m || pw_plane_check(src) < 0 || pw_plane_check(dst) < 0 || src->channels != dst->channels)
        return -EINVAL;
    return guard([&]() -> int {
        cv::Mat mat(2, 3, CV_64F, const_cast<double *>(m));
        cv::Mat out = wrap(dst);
        cv::warpAffine(wrap(src), out, mat, out.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                       cv::Scalar::all(border_value));
        return 0;
    });
}

extern "C" int pw_cv_resize(const pw_plane *src, pw_plane *dst)
{
    if (pw_plane_check(src) < 0 || pw_plane_check(dst) < 0 || src->channels != dst->channels)
        return -EINVAL;
    return guard([&]() -> int {
        cv::Mat out = wrap(dst);
        bool shrink = dst->width < src->width && dst->height < src->height;
        cv::resize(wrap(src), out, out.size(), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
        return 0;
    });
}

extern "C" int pw_cv_gaussian_blur(pw_plane *p, double sigma)
{
    if (pw_plane_check(p) < 0)
        return -EINVAL;
    if (sigma <= 0)
        return 0;
    return guard([&]() -> int {
        cv::Mat m = wrap(p);
        cv::GaussianBlur(m, m, cv::Size(0, 0), sigma);
        return 0;
    });
}

static int hershey(pw_font font)
{
    switch (font) {
    case PW_FONT_SANS_BOLD:
        return cv::FONT_HERSHEY_DUPLEX;
    case PW_FONT_SERIF:
        return cv::FONT_HERSHEY_TRIPLEX;
    default:
        return cv::FONT_HERSHEY_SIMPLEX;
    }
}

extern "C" int pw_cv_text_size(const char *text, pw_font font, double scale, int thickness,
                               int *width, int *height, int *baseline)
{
    if (!text || !width || !height)
        return -EINVAL;
    return guard([&]() -> int {
        int base = 0;
        cv::Size s = cv::getTextSize(text, hershey(font), scale, thickness, &base);
        *width = s.width;
        *height = s.height;
        if (baseline)
            *baseline = base;
        return 0;
    });
}

extern "C" int pw_cv_put_text(pw_plane *p, const char *text, int x, int y, pw_font font,
                              double scale, int thickness, const uint8_t value[3])
{
    if (!text || !value || pw_plane_check(p) < 0)
        return -EINVAL;
    return guard([&]() -> int {
        cv::Mat m = wrap(p);
        cv::Scalar colour(value[0], value[1], value[2]);
        cv::putText(m, text, cv::Point(x, y), hershey(font), scale, colour, thickness, cv::LINE_AA);
        return 0;
    });
}

extern "C" int pw_cv_cascade_new(const char *path, pw_cv_cascade **out, pw_err *err)
{
    if (!path || !out)
        return pw_err_set(err, -EINVAL, "no cascade path given");
    *out = nullptr;
    pw_cv_cascade *c = nullptr;
    int rc = guard([&]() -> int {
        c = new pw_cv_cascade();
        if (!c->classifier.load(path)) {
            delete c;
            c = nullptr;
            return -ENOENT;
        }
        return 0;
    });
    if (rc < 0)
        return pw_err_set(err, rc, "%s: cannot load Haar cascade: %s", path, pw_strerror(rc));
    *out = c;
    return 0;
}

extern "C" void pw_cv_cascade_destroy(pw_cv_cascade **c)
{
    if (!c || !*c)
        return;
    delete *c;
    *c = nullptr;
}

extern "C" int pw_cv_cascade_detect(pw_cv_cascade *c, const pw_plane *grey, int min_w, int min_h,
                                    pw_rect *rects, size_t max, size_t *n)
{
    if (!c || !n || (max && !rects) || pw_plane_check(grey) < 0 || grey->channels != 1)
        return -EINVAL;
    *n = 0;
    return guard([&]() -> int {
        std::vector<cv::Rect> found;
        c->classifier.detectMultiScale(wrap(grey), found, 1.1, 3, 0, cv::Size(min_w, min_h));
        size_t k = 0;
        for (const cv::Rect &r : found) {
            if (k == max)
                break;
            rects[k++] = pw_rect{r.x, r.y, r.width, r.height};
        }
        *n = k;
        return 0;
    });
}
