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
// declares more pixels than the limits (a decompression bomb), and bytes of
// another format than declared. Errors: bad_image. (A picture cut short
// after its header is found when it is processed, and flagged unreadable.)
func CheckOriginal(r io.ReaderAt, size int64, contentType string, lim imageproc.Limits) error {
	info, err := imageproc.Inspect(r, size, lim)
	heic := info != nil && info.Format == "heic"
	w, h := dims(info)
	switch {
	case errors.Is(err, imageproc.ErrTooLarge):
		return server.Errorf(syncproto.CodeBadImage, "图片像素数超过上限（%d×%d），不予保存", w, h)
	case err != nil && !(heic && errors.Is(err, imageproc.ErrUnsupported)):
		return server.Errorf(syncproto.CodeBadImage, "文件不是可读取的图片：%v", err)
	case formats[contentType] != info.Format:
		return server.Errorf(syncproto.CodeBadImage, "文件内容是 %s，与声明的 %s 不符", info.Format, contentType)
	}
	return nil
}

func dims(info *imageproc.Info) (int, int) {
	if info == nil {
		return 0, 0
	}
	return info.Width, info.Height
}
