// Runs x86-64 byte sequences on this machine's CPU for the differential tests of the core.
//
// One long-lived process: batches of cases arrive on stdin, results leave on stdout (binary, little
// endian; the layout is mirrored in wasm/test/support/native.ts). The guest window 0x100000-0x3fffff
// is mapped at the same addresses the core uses as guest-physical addresses, so the same bytes run
// unchanged on both sides. A case loads all sixteen GPRs and RFLAGS, jumps to its RIP, and ends with
// a signal: the terminal HLT raises #GP in user mode (SIGSEGV), and every other exception arrives as
// its own signal. The handler reads the vector, error code and registers from the ucontext and
// siglongjmps back, so no case returns through guest code.
//
// Protocol
//   hello  (once, at start):  "EXSH" u32 version; char vendor[12]; u32 family, model, stepping
//   batch  (stdin):           u32 count; count × case
//   case:                     u64 gpr[16] (SDM order: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15);
//                             u64 rflags; u64 rip; u32 nregions; u32 0;
//                             nregions × { u64 addr; u32 len; u32 0; u8 bytes[len] padded to 8 }
//   result (stdout):          u32 vector; u32 error_code; u64 gpr[16]; u64 rip; u64 rflags;
//                             u64 fault_addr; then each region's final bytes, padded to 8
//   vector is the hardware exception vector (REG_TRAPNO), or VECTOR_TIMEOUT when the case used more
//   CPU time than the timeout (argv[1] in ms, default 1000): a generator bug, as every case is meant
//   to end within microseconds. The timer counts the process's user time (ITIMER_VIRTUAL), so a busy
//   machine that deschedules the harness cannot make a short case time out.
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define WINDOW_BASE 0x100000UL
#define WINDOW_END 0x400000UL
#define MAX_REGIONS 16
#define VECTOR_TIMEOUT 0x100
#define PROTOCOL_VERSION 1

struct guest_state {
  uint64_t gpr[16];
  uint64_t rflags;
};

// Read by enter_guest with RIP-relative addressing, so no register is needed to hold them.
struct guest_state guest;
uint64_t guest_rip;

// Loads RFLAGS and all sixteen GPRs from `guest` and jumps to guest_rip. Never returns: the case
// ends in on_signal. RFLAGS goes first (POPFQ needs the host stack); the MOVs after it change no flag.
void enter_guest(void);
__asm__(
    ".text\n"
    ".globl enter_guest\n"
    "enter_guest:\n"
    "  pushq guest+128(%rip)\n"
    "  popfq\n"
    "  movq guest+0(%rip), %rax\n"
    "  movq guest+8(%rip), %rcx\n"
    "  movq guest+16(%rip), %rdx\n"
    "  movq guest+24(%rip), %rbx\n"
    "  movq guest+32(%rip), %rsp\n"
    "  movq guest+40(%rip), %rbp\n"
    "  movq guest+48(%rip), %rsi\n"
    "  movq guest+56(%rip), %rdi\n"
    "  movq guest+64(%rip), %r8\n"
    "  movq guest+72(%rip), %r9\n"
    "  movq guest+80(%rip), %r10\n"
    "  movq guest+88(%rip), %r11\n"
    "  movq guest+96(%rip), %r12\n"
    "  movq guest+104(%rip), %r13\n"
    "  movq guest+112(%rip), %r14\n"
    "  movq guest+120(%rip), %r15\n"
    "  jmpq *guest_rip(%rip)\n");

struct result_head {
  uint32_t vector, error_code;
  uint64_t gpr[16];
  uint64_t rip, rflags, fault_addr;
};

static sigjmp_buf back_to_harness;
static volatile sig_atomic_t in_guest;
static struct result_head result;
static long case_timeout_ms = 1000;

// ucontext's REG_* order differs from the SDM's; this maps SDM index -> gregs index.
static const int gregs_index[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  if (!in_guest) {
    if (sig == SIGVTALRM) return; // a timer that fired just after the case ended
    signal(sig, SIG_DFL);       // a fault in the harness itself: crash visibly
    raise(sig);
    return;
  }
  const greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  for (int i = 0; i < 16; i++) result.gpr[i] = (uint64_t)g[gregs_index[i]];
  result.rip = (uint64_t)g[REG_RIP];
  result.rflags = (uint64_t)g[REG_EFL];
  result.vector = sig == SIGVTALRM ? VECTOR_TIMEOUT : (uint32_t)g[REG_TRAPNO];
  result.error_code = (uint32_t)g[REG_ERR];
  result.fault_addr = (uint64_t)(uintptr_t)si->si_addr;
  in_guest = 0;
  siglongjmp(back_to_harness, 1);
}

static void die(const char *what) {
  fprintf(stderr, "harness: %s\n", what);
  exit(2);
}

static void read_exact(void *p, size_t n) {
  if (n && fread(p, 1, n, stdin) != n) {
    if (feof(stdin)) exit(0); // the test runner closed the pipe
    die("short read on stdin");
  }
}

static void write_exact(const void *p, size_t n) {
  if (n && fwrite(p, 1, n, stdout) != n) die("short write on stdout");
}

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

static void set_timer(long ms) {
  struct itimerval t = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_VIRTUAL, &t, NULL);
}

static void setup(void) {
  void *w = mmap((void *)WINDOW_BASE, WINDOW_END - WINDOW_BASE, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (w != (void *)WINDOW_BASE) die("cannot map the guest window at 0x100000 (MAP_FIXED_NOREPLACE)");

  // The handler runs on its own stack: the guest's RSP points into the window (or anywhere).
  static char altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  if (sigaltstack(&ss, NULL)) die("sigaltstack");

  // SA_NODEFER keeps the signal mask untouched, so siglongjmp needs no sigprocmask call.
  struct sigaction sa = {0};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGVTALRM};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL)) die("sigaction");

  static char inbuf[1 << 20], outbuf[1 << 20];
  setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
}

static void hello(void) {
  unsigned a, b, c, d;
  char vendor[12];
  __cpuid(0, a, b, c, d);
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  __cpuid(1, a, b, c, d);
  uint32_t family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  if (family >= 6) model |= ((a >> 16) & 0xf) << 4;
  uint32_t version = PROTOCOL_VERSION;
  write_exact("EXSH", 4);
  write_exact(&version, 4);
  write_exact(vendor, 12);
  write_exact(&family, 4);
  write_exact(&model, 4);
  write_exact(&stepping, 4);
  fflush(stdout);
}

struct region {
  uint64_t addr;
  uint32_t len;
};

static void run_case(void) {
  struct {
    uint32_t nregions, zero;
  } tail;
  struct region regions[MAX_REGIONS];
  read_exact(&guest, sizeof guest);
  read_exact(&guest_rip, 8);
  read_exact(&tail, sizeof tail);
  if (tail.nregions > MAX_REGIONS) die("too many regions");
  for (uint32_t i = 0; i < tail.nregions; i++) {
    struct {
      uint64_t addr;
      uint32_t len, zero;
    } r;
    read_exact(&r, sizeof r);
    if (r.addr < WINDOW_BASE || r.addr > WINDOW_END || r.len > WINDOW_END - r.addr) die("region outside the guest window");
    regions[i] = (struct region){r.addr, r.len};
    read_exact((void *)(uintptr_t)r.addr, r.len);
    uint64_t skip;
    read_exact(&skip, pad8(r.len) - r.len);
  }
  // Code was just written through the data side; x86 keeps instruction fetch coherent with it.
  memset(&result, 0, sizeof result);
  set_timer(case_timeout_ms);
  if (!sigsetjmp(back_to_harness, 0)) {
    in_guest = 1;
    enter_guest();
  }
  set_timer(0);
  write_exact(&result, sizeof result);
  static const uint64_t zeros;
  for (uint32_t i = 0; i < tail.nregions; i++) {
    write_exact((void *)(uintptr_t)regions[i].addr, regions[i].len);
    write_exact(&zeros, pad8(regions[i].len) - regions[i].len);
  }
}

int main(int argc, char **argv) {
  if (argc > 1) case_timeout_ms = atol(argv[1]);
  if (case_timeout_ms <= 0) die("usage: harness [timeout-ms]");
  setup();
  hello();
  for (;;) {
    uint32_t count;
    read_exact(&count, 4);
    for (uint32_t i = 0; i < count; i++) run_case();
    fflush(stdout);
  }
}
