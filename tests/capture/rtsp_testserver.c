/*
 * rtsp_testserver.c - a loopback RTSP camera for the capture tests: serves
 * a live test pattern as RTP/JPEG at rtsp://127.0.0.1:PORT/cam until it is
 * killed. Run as a separate process so that a test can make the "camera"
 * vanish (SIGKILL closes every socket at once) and come back.
 *
 * Usage: pw-rtsp-testserver PORT [WIDTHxHEIGHT] [FPS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <gst/gst.h>
#include <sys/prctl.h>
#include <gst/rtsp-server/rtsp-server.h>

int main(int argc, char **argv)
{
    /*
     * The server must never outlive its test: an orphan would keep the test
     * runner's output pipe open and hang it.
     */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    gst_init(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [WIDTHxHEIGHT] [FPS]\n", argv[0]);
        return 2;
    }
    int w = 320, h = 240, fps = 15;
    if (argc > 2 && sscanf(argv[2], "%dx%d", &w, &h) != 2) {
        fprintf(stderr, "%s: bad size '%s'\n", argv[0], argv[2]);
        return 2;
    }
    if (argc > 3)
        fps = atoi(argv[3]);
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    GstRTSPServer *server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server, "127.0.0.1");
    gst_rtsp_server_set_service(server, argv[1]);
    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
    char *launch = g_strdup_printf(
        "( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=%d,height=%d,"
        "framerate=%d/1 ! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26 )", w, h, fps);
    gst_rtsp_media_factory_set_launch(factory, launch);
    g_free(launch);
    /* One shared pipeline: a reconnecting client joins the running "camera". */
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
    g_object_unref(mounts);
    if (gst_rtsp_server_attach(server, NULL) == 0) {
        fprintf(stderr, "%s: cannot listen on 127.0.0.1:%s\n", argv[0], argv[1]);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    g_main_loop_run(loop);
    return 0;
}
