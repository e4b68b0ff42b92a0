package imageproc

import "testing"

func TestEditedBy(t *testing.T) {
	tests := []struct {
		software string
		want     string // "" for not an editor
	}{
		// Editors, as they write themselves into EXIF Software.
		{"Adobe Photoshop 25.0 (Windows)", "Adobe Photoshop"},
		{"Adobe Photoshop CC 2019 (Macintosh)", "Adobe Photoshop"},
		{"Adobe Photoshop Express", "Adobe Photoshop"},
		{"Adobe Photoshop Lightroom Classic 13.0 (Windows)", "Adobe Lightroom"},
		{"Lightroom Mobile", "Adobe Lightroom"},
		{"GIMP 2.10.34", "GIMP"},
		{"Snapseed 2.0", "Snapseed"},
		{"PicsArt", "PicsArt"},
		{"美图秀秀", "Meitu (美图秀秀)"},
		{"MTXX_Android 9.9.5", "Meitu (美图秀秀)"},
		{"Meitu", "Meitu (美图秀秀)"},
		{"醒图", "Hypic (醒图)"},
		{"Hypic 3.1", "Hypic (醒图)"},
		{"黄油相机", "Butter Camera (黄油相机)"},
		{"Canva", "Canva"},
		{"PhotoScape X", "PhotoScape"},
		{"Pixelmator Pro 3.5", "Pixelmator"},
		{"Affinity Photo 2", "Affinity Photo"},
		{"VSCO", "VSCO"},
		{"Picture Studio 1.2", "Picture Studio"},
		{"天天P图", "Tiantian P-Tu (天天P图)"},
		{"paint.net 5.0.12", "Paint.NET"},
		{"  SNAPSEED  ", "Snapseed"},
		// Camera firmware and phone builds: not editors.
		{"", ""},
		{"HDR+ 1.0.540104767zd", ""},
		{"MIUI Camera", ""},
		{"Xiaomi 13", ""},
		{"ALP-AL00 9.1.0.226(C00E215R1P7)", ""},
		{"HarmonyOS 4.0.0", ""},
		{"17.1.2", ""},
		{"G998BXXU7EWK5", ""},
		{"PD2309_A_14.1.10.5.W10", ""},
		{"OnePlus12-user 14 UKQ1.230924.001", ""},
		{"OPPO Camera", ""},
		{"Android PQ3A.190801.002", ""},
		{"Camera FV-5", ""},
		{"今日水印相机", ""}, // a watermark camera takes photos; it does not edit them
	}
	for _, tt := range tests {
		t.Run(tt.software, func(t *testing.T) {
			got, ok := EditedBy(tt.software)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("EditedBy(%q) = %q, %v; want %q", tt.software, got, ok, tt.want)
			}
		})
	}
}
