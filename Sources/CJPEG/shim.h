#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

/*
 * libjpeg reports a fatal error by calling error_exit, whose default calls exit().
 * A corrupt file in a dataset must become a Swift error instead, which needs
 * setjmp/longjmp, and Swift cannot call setjmp. So the whole decode (and encode)
 * runs here, in C, and returns a status plus libjpeg's own message.
 */

struct rt_jpeg_error_manager {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static inline void rt_jpeg_error_exit(j_common_ptr info) {
    struct rt_jpeg_error_manager *manager = (struct rt_jpeg_error_manager *)info->err;
    (*info->err->format_message)(info, manager->message);
    longjmp(manager->jump, 1);
}

/* Warnings (e.g. "premature end of data") would go to stderr; corrupt data that
   libjpeg can still decode is accepted silently, as PIL does. */
static inline void rt_jpeg_ignore_message(j_common_ptr info, int level) { (void)info; (void)level; }

/*
 * Decodes a JPEG held in memory into 8-bit interleaved pixels (HWC), RGB or
 * grayscale as asked. On success returns 0 and sets *pixels (malloc'd; free it
 * with free()), *width and *height. On failure returns 1 and writes libjpeg's
 * message into `message`.
 */
static inline int rt_jpeg_decode(const unsigned char *data, unsigned long size, int grayscale,
                                 unsigned char **pixels, int *width, int *height,
                                 char *message, size_t message_capacity) {
    struct jpeg_decompress_struct info;
    struct rt_jpeg_error_manager manager;
    unsigned char *volatile buffer = NULL;
    manager.message[0] = 0;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = rt_jpeg_error_exit;
    manager.base.emit_message = rt_jpeg_ignore_message;
    if (setjmp(manager.jump)) {
        snprintf(message, message_capacity, "%s", manager.message);
        jpeg_destroy_decompress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = grayscale ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * (size_t)info.output_components;
    buffer = (unsigned char *)malloc(stride * info.output_height);
    if (buffer == NULL) {
        snprintf(message, message_capacity, "out of memory for %ux%u image", info.output_width, info.output_height);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    *pixels = buffer;
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    jpeg_destroy_decompress(&info);
    return 0;
}

/*
 * Compresses 8-bit interleaved pixels (HWC, 1 or 3 channels) into `info`'s destination with
 * libjpeg's defaults at `quality`; both encoders below set the destination, then call this.
 */
static inline void rt_jpeg_compress_rows(struct jpeg_compress_struct *info, const unsigned char *pixels, int width, int height,
                                         int channels, int quality) {
    info->image_width = (JDIMENSION)width;
    info->image_height = (JDIMENSION)height;
    info->input_components = channels;
    info->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(info);
    jpeg_set_quality(info, quality, TRUE);
    jpeg_start_compress(info, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (info->next_scanline < info->image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * info->next_scanline);
        jpeg_write_scanlines(info, &row, 1);
    }
    jpeg_finish_compress(info);
}

/*
 * Encodes 8-bit interleaved pixels (HWC, 1 or 3 channels) as a baseline JPEG file.
 * Returns 0 on success, 1 with a message on failure.
 */
static inline int rt_jpeg_encode_file(const char *path, const unsigned char *pixels, int width, int height,
                                      int channels, int quality, char *message, size_t message_capacity) {
    struct jpeg_compress_struct info;
    struct rt_jpeg_error_manager manager;
    FILE *volatile file = fopen(path, "wb");
    if (file == NULL) {
        snprintf(message, message_capacity, "cannot open for writing");
        return 1;
    }
    manager.message[0] = 0;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = rt_jpeg_error_exit;
    manager.base.emit_message = rt_jpeg_ignore_message;
    if (setjmp(manager.jump)) {
        snprintf(message, message_capacity, "%s", manager.message);
        jpeg_destroy_compress(&info);
        fclose(file);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, file);
    rt_jpeg_compress_rows(&info, pixels, width, height, channels, quality);
    jpeg_destroy_compress(&info);
    if (fclose(file) != 0) {
        snprintf(message, message_capacity, "write failed");
        return 1;
    }
    return 0;
}

/*
 * Encodes 8-bit interleaved pixels (HWC, 1 or 3 channels) as a baseline JPEG held in memory
 * (libjpeg's defaults: 4:2:0 chroma subsampling for RGB, the islow DCT, as PIL's JPEG writer).
 * On success returns 0 and sets *output (malloc'd by libjpeg; free it with free()) and *size.
 * Used to JPEG-compress an image and decode it back (the jpeg_compression corruption).
 */
static inline int rt_jpeg_encode_memory(const unsigned char *pixels, int width, int height, int channels, int quality,
                                        unsigned char **output, unsigned long *size,
                                        char *message, size_t message_capacity) {
    struct jpeg_compress_struct info;
    struct rt_jpeg_error_manager manager;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    manager.message[0] = 0;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = rt_jpeg_error_exit;
    manager.base.emit_message = rt_jpeg_ignore_message;
    if (setjmp(manager.jump)) {
        snprintf(message, message_capacity, "%s", manager.message);
        jpeg_destroy_compress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, (unsigned char **)&buffer, &buffer_size);
    rt_jpeg_compress_rows(&info, pixels, width, height, channels, quality);
    jpeg_destroy_compress(&info);
    *output = buffer;
    *size = buffer_size;
    return 0;
}
