package testimg

import "testing"

func BenchmarkImage(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Image(Options{Width: 320, Height: 240, Seed: uint64(i)})
	}
}
func BenchmarkJPEG(b *testing.B) {
	for i := 0; i < b.N; i++ {
		JPEG(Options{Width: 320, Height: 240, Seed: uint64(i)})
	}
}
