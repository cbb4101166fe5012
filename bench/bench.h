/*
 * bench.h - the benchmark and accuracy commands behind `platewatch bench`.
 * Each takes the arguments after `platewatch bench <what>` (argv[0] is the
 * sub-command name), prints its report to stdout and returns the process
 * exit status (0 success, 1 some inputs failed, 2 usage or set-up error).
 */
#ifndef PW_BENCH_H
#define PW_BENCH_H

int pw_bench_images_main(int argc, char **argv);   /* bench_images.c: read-path accuracy on a manifest */
int pw_bench_detect_main(int argc, char **argv);   /* bench_detect.c: localiser recall, speed, Haar baseline */
int pw_bench_capture_main(int argc, char **argv);  /* bench_capture.c: capture overhead and latency */
int pw_bench_video_main(int argc, char **argv);    /* bench_video.c: the lane pipeline over recordings */

#endif
