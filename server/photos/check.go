package photos

import (
	"errors"
	"io"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// formats maps a declared content type to the format its bytes must have.
var formats = map[string]string{"image/jpeg": "jpeg", "image/png": "png", "image/heic": "heic"}

// CheckOriginal reads only an upload's header and refuses what must never
// be stored as evidence: bytes that are not an image, an image that
// declares more pixels than the limits, or pixels that take more memory to
// decode than lim.MaxBytes (a decompression bomb, or a 16-bit PNG of 100
// megapixels: a small file that decodes into 800 MB), and bytes of another
// format than declared. Errors: bad_image, whose message names the image's
// real size. (A picture cut short after its header is found when it is
// processed, and flagged unreadable.)
func CheckOriginal(r io.ReaderAt, size int64, contentType string, lim imageproc.Limits) error {
	info, err := imageproc.Inspect(r, size, lim)
	heic := info != nil && info.Format == "heic"
	var se *imageproc.SizeError
	switch {
	case errors.As(err, &se):
		return tooLarge(se)
	case err != nil && !(heic && errors.Is(err, imageproc.ErrUnsupported)):
		return server.Errorf(syncproto.CodeBadImage, "%s", unreadable(err))
	case formats[contentType] != info.Format:
		return server.Errorf(syncproto.CodeBadImage, "文件内容是 %s，与声明的 %s 不符", info.Format, contentType)
	}
	return nil
}

// unreadable says in Chinese, for the inspector, why a file is not an
// image fieldsync keeps (the error's detail is for the logs).
func unreadable(err error) string {
	if errors.Is(err, imageproc.ErrUnsupportedCoding) {
		return decodeProblem(err) + "，请用手机相机的默认设置重新拍照上传"
	}
	if errors.Is(err, imageproc.ErrUnsupported) || decodeProblem(err) == notAnImage {
		return decodeProblem(err) + "，请上传 JPEG、PNG 或 HEIC 照片"
	}
	return decodeProblem(err) + "，请重新拍照上传"
}

// notAnImage is decodeProblem's words for bytes no decoder reads.
const notAnImage = "文件不是可读取的图片"

// decodeProblem says in Chinese why bytes could not be decoded as an
// image: the words of an upload's refusal (unreadable) and of a stored
// photo's unreadable flag (Processor.unreadableReason).
func decodeProblem(err error) string {
	switch {
	case errors.Is(err, imageproc.ErrUnsupportedCoding):
		return "照片是 JPEG 或 PNG，但其编码方式（如算术编码、无损 JPEG）无法读取"
	case errors.Is(err, imageproc.ErrUnsupported):
		return "不支持这种图片格式"
	case errors.Is(err, imageproc.ErrTruncated):
		return "图片文件不完整，可能拍摄或保存时中断"
	case errors.Is(err, imageproc.ErrCorrupt):
		return "图片数据已损坏"
	case errors.Is(err, imageproc.ErrTooLarge):
		return "图片过大或过于复杂，无法解码"
	}
	return notAnImage
}

// tooLarge says in Chinese which limit an image exceeds, with its size.
func tooLarge(e *imageproc.SizeError) error {
	if e.Bytes > 0 {
		return server.Errorf(syncproto.CodeBadImage, "图片为 %d×%d 像素，解码约需 %d MB 内存，超过服务器对单张图片的上限 %d MB，不予保存",
			e.Width, e.Height, mb(e.Bytes), mb(e.MaxBytes))
	}
	return server.Errorf(syncproto.CodeBadImage, "图片像素数超过上限（%d×%d 像素；上限为 %d 万像素、最长边 %d 像素），不予保存",
		e.Width, e.Height, e.MaxPixels/10000, e.MaxSide)
}

// mb is n bytes in MiB, rounded up.
func mb(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
