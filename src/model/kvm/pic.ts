// The devices KVM_CREATE_IRQCHIP puts in the kernel besides the LAPICs: the two 8259 PICs on ports
// 0x20/0x21 and 0xa0/0xa1 with their ELCRs (arch/x86/kvm/i8259.c) and the IOAPIC's MMIO window at
// 0xfec00000 (arch/x86/kvm/ioapic.c). Nothing in the model raises their input lines, so they only keep
// the registers a guest programs — enough for accesses to them to be handled in the kernel (spec §3.7
// I1) instead of exiting to userspace.

/** One 8259: the init sequence (ICW1..4), the mask (IMR), and OCW3's register select. */
class I8259 {
  imr = 0xff;
  irr = 0;
  isr = 0;
  readIsr = false;
  initState = 0; // 0: ready; 1..3: expecting ICW2, ICW3, ICW4
  icw4 = false;
  vectorBase = 0;
  elcr = 0;

  /** pic_ioport_write(). */
  write(command: boolean, val: number): void {
    if (command) {
      if (val & 0x10) { // ICW1
        this.imr = 0; this.irr = 0; this.isr = 0; this.readIsr = false;
        this.icw4 = (val & 1) !== 0;
        this.initState = 1;
      } else if (val & 0x08) { // OCW3
        if (val & 0x02) this.readIsr = (val & 0x01) !== 0;
      } else if ((val & 0xe0) === 0x20) { // OCW2 non-specific EOI
        const top = 31 - Math.clz32(this.isr);
        if (this.isr) this.isr &= ~(1 << top);
      }
      return;
    }
    switch (this.initState) {
      case 0: this.imr = val; break;
      case 1: this.vectorBase = val & 0xf8; this.initState = 2; break;
      case 2: this.initState = this.icw4 ? 3 : 0; break;
      case 3: this.initState = 0; break;
    }
  }

  /** pic_ioport_read(). */
  read(command: boolean): number {
    if (command) return this.readIsr ? this.isr : this.irr;
    return this.imr;
  }
}

/** struct kvm_pic: master and slave 8259s. */
export class KvmPic {
  readonly pics = [new I8259(), new I8259()];

  /** Whether `port` belongs to the in-kernel PIC (picdev_in_range / elcr). */
  static handles(port: number): boolean {
    return port === 0x20 || port === 0x21 || port === 0xa0 || port === 0xa1 || port === 0x4d0 || port === 0x4d1;
  }

  /** picdev_write(): 8-bit accesses only; wider ones are ignored like KVM's "non byte write". */
  write(port: number, size: number, val: number): void {
    if (size !== 1) return;
    if (port === 0x4d0 || port === 0x4d1) this.pics[port - 0x4d0].elcr = val & 0xff;
    else this.pics[port >> 7].write((port & 1) === 0, val & 0xff);
  }

  read(port: number, size: number): number {
    if (size !== 1) return 0xff;
    if (port === 0x4d0 || port === 0x4d1) return this.pics[port - 0x4d0].elcr;
    return this.pics[port >> 7].read((port & 1) === 0);
  }
}

export const IOAPIC_DEFAULT_BASE_ADDRESS = 0xfec00000;
export const IOAPIC_MEM_LENGTH = 0x100;
const IOAPIC_NUM_PINS = 24;

/** struct kvm_ioapic: IOREGSEL/IOWIN with the ID, version and 24 redirection entries. */
export class KvmIoapic {
  ioregsel = 0;
  id = 0;
  readonly redirtbl = Array.from({ length: IOAPIC_NUM_PINS }, () => 1n << 16n); // masked
  /**
   * The vectors whose EOI the IOAPIC needs, as kvm_ioapic_scan_entry() last computed them (pv_eoi.ts);
   * null after a redirection write, as KVM_REQ_SCAN_IOAPIC asks for a new scan.
   */
  handled_vectors: Uint32Array | null = null;

  static handles(gpa: number): boolean {
    return gpa >= IOAPIC_DEFAULT_BASE_ADDRESS && gpa < IOAPIC_DEFAULT_BASE_ADDRESS + IOAPIC_MEM_LENGTH;
  }

  /** ioapic_mmio_read(): offset 0 is IOREGSEL, 0x10 the window. */
  read(gpa: number): number {
    const off = gpa - IOAPIC_DEFAULT_BASE_ADDRESS;
    if (off === 0) return this.ioregsel;
    if (off !== 0x10) return 0;
    switch (this.ioregsel) {
      case 0: return this.id << 24;
      case 1: return 0x11 | ((IOAPIC_NUM_PINS - 1) << 16); // IOAPIC_VERSION_ID, max redirection entry
      case 2: return 0;
    }
    const pin = (this.ioregsel - 0x10) >> 1;
    if (pin < 0 || pin >= IOAPIC_NUM_PINS) return 0xffffffff;
    const e = this.redirtbl[pin];
    return Number(this.ioregsel & 1 ? e >> 32n : e & 0xffffffffn);
  }

  write(gpa: number, val: number): void {
    const off = gpa - IOAPIC_DEFAULT_BASE_ADDRESS;
    if (off === 0) { this.ioregsel = val & 0xff; return; }
    if (off !== 0x10) return;
    if (this.ioregsel === 0) { this.id = (val >>> 24) & 0xf; return; }
    const pin = (this.ioregsel - 0x10) >> 1;
    if (pin < 0 || pin >= IOAPIC_NUM_PINS) return;
    const e = this.redirtbl[pin];
    this.handled_vectors = null;
    this.redirtbl[pin] = this.ioregsel & 1
      ? (e & 0xffffffffn) | (BigInt(val >>> 0) << 32n)
      : (e & ~0xffffffffn) | BigInt(val >>> 0);
  }
}
