package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

func TestHEIFHostile(t *testing.T) {
	good := testimg.HEIF(testimg.Options{Width: 640, Height: 480, Make: "Apple", Time: &shotAt})
	meta := bytes.Index(good, []byte("meta")) - 4
	iloc := bytes.Index(good, []byte("iloc")) - 4 // its second item's extent offset is at iloc+40
	ipma := bytes.Index(good, []byte("ipma")) - 4
	patch := func(at int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[at:], v)
		return b
	}
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	tests := []struct {
		name         string
		data         []byte
		wantW, wantH int
		wantMake     string
	}{
		{"as made", good, 640, 480, "Apple"},
		{"iloc declaring 2³²−1 items (version 2)", patch(iloc+8, append([]byte{2, 0, 0, 0, 0x44, 0}, be32(0xffffffff)...)...), 640, 480, ""},
		{"ipma declaring 2³²−1 entries, one there", patch(ipma+12, be32(0xffffffff)...), 640, 480, "Apple"},
		{"Exif extent past the end of the file", patch(iloc+40, be32(1<<30)...), 640, 480, ""},
		{"meta box larger than the file", patch(meta, be32(1<<31)...), 0, 0, ""},
		{"meta box of 64-bit size 2⁶³", patch(meta, append(be32(1), append([]byte("meta"), 0x80, 0, 0, 0, 0, 0, 0, 0)...)...), 0, 0, ""},
		{"cut inside the meta box", good[:meta+60], 0, 0, ""},
		{"cut inside the Exif item", good[:len(good)-20], 640, 480, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			var info *Info
			var err error
			allocated := bytesAllocated(3, func() { info, err = inspectBytes(t, tt.data, Limits{}) })
			if allocated > 1<<20 || time.Since(start) > time.Second {
				t.Errorf("allocated %d B in %v", allocated, time.Since(start))
			}
			if tt.wantW == 0 {
				// No primary image of a size could be read: not an image.
				if !errors.Is(err, ErrNotImage) {
					t.Errorf("Inspect = %+v, %v; want ErrNotImage", info, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != FormatHEIC || info.Width != tt.wantW || info.Height != tt.wantH || info.EXIF.Make != tt.wantMake {
				t.Errorf("Inspect = %s %d×%d Make %q, want heic %d×%d Make %q",
					info.Format, info.Width, info.Height, info.EXIF.Make, tt.wantW, tt.wantH, tt.wantMake)
			}
		})
	}
}
