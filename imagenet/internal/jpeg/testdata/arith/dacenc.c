/*
 * dacenc: writes an arithmetic-coded JPEG with non-default conditioning
 * (DAC) values, which cjpeg has no option for. Used by gen.py only.
 *
 *   dacenc in.ppm out.jpg progressive(0|1) L0 U0 K0 L1 U1 K1 [restart]
 *
 * Table 0 is the luminance DC/AC conditioning, table 1 the chrominance.
 * The colour image is 4:2:0, quality 85.
 */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	FILE *in, *out;
	int w, h, maxval, y;
	unsigned char *pix;

	if (argc < 10) {
		fprintf(stderr, "usage: dacenc in.ppm out.jpg prog L0 U0 K0 L1 U1 K1 [restart]\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (!in || fscanf(in, "P6 %d %d %d", &w, &h, &maxval) != 3 || maxval != 255 || fgetc(in) == EOF)
		return 1;
	pix = malloc((size_t)w * h * 3);
	if (!pix || fread(pix, 3, (size_t)w * h, in) != (size_t)w * h)
		return 1;
	fclose(in);
	out = fopen(argv[2], "wb");
	if (!out)
		return 1;

	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, out);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	c.arith_code = TRUE;
	c.optimize_coding = FALSE;
	if (atoi(argv[3]))
		jpeg_simple_progression(&c);
	c.arith_dc_L[0] = atoi(argv[4]);
	c.arith_dc_U[0] = atoi(argv[5]);
	c.arith_ac_K[0] = atoi(argv[6]);
	c.arith_dc_L[1] = atoi(argv[7]);
	c.arith_dc_U[1] = atoi(argv[8]);
	c.arith_ac_K[1] = atoi(argv[9]);
	if (argc > 10)
		c.restart_in_rows = atoi(argv[10]);
	jpeg_start_compress(&c, TRUE);
	for (y = 0; y < h; y++) {
		JSAMPROW row = pix + (size_t)y * w * 3;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	fclose(out);
	free(pix);
	return 0;
}
