package imageproc

import "strings"

// editors maps a lower-case fragment of an EXIF Software string to the
// editor it identifies. Fragments are specific enough not to occur in
// camera firmware strings ("HDR+ 1.0.540104767zd", "MIUI Camera",
// "ALP-AL00 9.1.0.226(C00E215R1P7)", "17.1.2" on iPhones). Order matters
// where one name contains another: Lightroom before Photoshop, since
// "Adobe Photoshop Lightroom" is Lightroom.
var editors = []struct{ fragment, editor string }{
	{"lightroom", "Adobe Lightroom"},
	{"photoshop", "Adobe Photoshop"},
	{"gimp", "GIMP"},
	{"snapseed", "Snapseed"},
	{"picsart", "PicsArt"},
	{"美图秀秀", "Meitu (美图秀秀)"},
	{"meitu", "Meitu (美图秀秀)"},
	{"mtxx", "Meitu (美图秀秀)"},
	{"美颜相机", "BeautyCam (美颜相机)"},
	{"beautycam", "BeautyCam (美颜相机)"},
	{"醒图", "Hypic (醒图)"},
	{"hypic", "Hypic (醒图)"},
	{"黄油相机", "Butter Camera (黄油相机)"},
	{"butter camera", "Butter Camera (黄油相机)"},
	{"天天p图", "Tiantian P-Tu (天天P图)"},
	{"canva", "Canva"},
	{"photoscape", "PhotoScape"},
	{"pixelmator", "Pixelmator"},
	{"affinity", "Affinity Photo"},
	{"vsco", "VSCO"},
	{"picture studio", "Picture Studio"},
	{"photopea", "Photopea"},
	{"pixlr", "Pixlr"},
	{"fotor", "Fotor"},
	{"polarr", "Polarr"},
	{"facetune", "Facetune"},
	{"paint.net", "Paint.NET"},
	{"krita", "Krita"},
	{"acdsee", "ACDSee"},
	{"darktable", "darktable"},
	{"rawtherapee", "RawTherapee"},
	{"capture one", "Capture One"},
	{"luminar", "Luminar"},
	{"photodirector", "PhotoDirector"},
}

// EditedBy reports whether software, an EXIF Software string, names known
// photo-editing software, and which. Matching is a case-insensitive search
// for fragments of the editors' names (Adobe Photoshop and Lightroom, GIMP,
// Snapseed, PicsArt, 美图秀秀/Meitu, 醒图/Hypic, 黄油相机, Canva,
// PhotoScape, Pixelmator, Affinity, VSCO, Picture Studio and others); phone
// camera firmware does not match. Editors that strip EXIF instead are not
// caught here: Info.EXIF.Present is false for their output.
func EditedBy(software string) (editor string, ok bool) {
	s := strings.ToLower(software)
	for _, e := range editors {
		if strings.Contains(s, e.fragment) {
			return e.editor, true
		}
	}
	return "", false
}
