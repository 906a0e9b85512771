// The ALU loop of research/perf-anchors.md on this machine's CPU: add eax,ebx; xor ebx,eax; dec; jnz.
// Usage: native-alu ITERATIONS [RUNS] -> a line per run: "<instructions> <wall seconds> <cpu seconds>".
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  unsigned long n = argc > 1 ? strtoul(argv[1], 0, 0) : 250000000UL;
  int runs = argc > 2 ? atoi(argv[2]) : 1;
  for (int r = 0; r < runs; r++) {
    unsigned long c = n;
    unsigned a = 1, b = 2;
    double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    __asm__ volatile("1: add %0,%1\n\t xor %1,%0\n\t dec %2\n\t jnz 1b" : "+r"(a), "+r"(b), "+r"(c));
    double w1 = seconds(CLOCK_MONOTONIC), c1 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    printf("%lu %.6f %.6f\n", 4 * n, w1 - w0, c1 - c0);
  }
  return 0;
}
