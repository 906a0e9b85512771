// Mnemonics of the instructions the core decodes, spelled as iced-x86's `Mnemonic` enum names so a
// test can compare the core's decoder with iced's. decode() writes the index to abi DECODE_MNEMONIC.
//
// Compiled by both asc (the core) and tsc (the model), like abi.ts: integer constants only. Several
// runs are in a fixed order that the opcode table relies on (noted per line): keep them contiguous.

export const INVALID = 0;

// ALU kinds /0../7 then TEST
export const Add = 1;
export const Or = 2;
export const Adc = 3;
export const Sbb = 4;
export const And = 5;
export const Sub = 6;
export const Xor = 7;
export const Cmp = 8;
export const Test = 9;

export const Inc = 10;
export const Dec = 11;
export const Not = 12;
export const Neg = 13;
export const Mul = 14;
export const Imul = 15;
export const Div = 16;
export const Idiv = 17;

// shift group /0../7
export const Rol = 18;
export const Ror = 19;
export const Rcl = 20;
export const Rcr = 21;
export const Shl = 22;
export const Shr = 23;
export const Sal = 24;
export const Sar = 25;

export const Mov = 26;
export const Movzx = 27;
export const Movsx = 28;
export const Movsxd = 29;
export const Lea = 30;
export const Xchg = 31;
export const Xadd = 32;
export const Cmpxchg = 33;
export const Bswap = 34;

export const Push = 35;
export const Pop = 36;
export const Pushf = 37;
export const Pushfd = 38;
export const Pushfq = 39;
export const Popf = 40;
export const Popfd = 41;
export const Popfq = 42;
export const Leave = 43;

export const Jo = 44;
export const Jno = 45;
export const Jb = 46;
export const Jae = 47;
export const Je = 48;
export const Jne = 49;
export const Jbe = 50;
export const Ja = 51;
export const Js = 52;
export const Jns = 53;
export const Jp = 54;
export const Jnp = 55;
export const Jl = 56;
export const Jge = 57;
export const Jle = 58;
export const Jg = 59;

export const Seto = 60;
export const Setno = 61;
export const Setb = 62;
export const Setae = 63;
export const Sete = 64;
export const Setne = 65;
export const Setbe = 66;
export const Seta = 67;
export const Sets = 68;
export const Setns = 69;
export const Setp = 70;
export const Setnp = 71;
export const Setl = 72;
export const Setge = 73;
export const Setle = 74;
export const Setg = 75;

export const Cmovo = 76;
export const Cmovno = 77;
export const Cmovb = 78;
export const Cmovae = 79;
export const Cmove = 80;
export const Cmovne = 81;
export const Cmovbe = 82;
export const Cmova = 83;
export const Cmovs = 84;
export const Cmovns = 85;
export const Cmovp = 86;
export const Cmovnp = 87;
export const Cmovl = 88;
export const Cmovge = 89;
export const Cmovle = 90;
export const Cmovg = 91;

export const Jmp = 92;
export const Call = 93;
export const Ret = 94;
export const Loopne = 95;
export const Loope = 96;
export const Loop = 97;
export const Jrcxz = 98;
export const Jecxz = 99;

export const Nop = 100;
export const Reservednop = 101;
export const Pause = 102;
export const Lfence = 103;
export const Mfence = 104;
export const Sfence = 105;

// condition codes 0..15
export const Clc = 106;
export const Stc = 107;
export const Cmc = 108;
export const Cld = 109;
export const Std = 110;
export const Cli = 111;
export const Sti = 112;
export const Sahf = 113;
export const Lahf = 114;

// condition codes 0..15
export const Cbw = 115;
export const Cwde = 116;
export const Cdqe = 117;
export const Cwd = 118;
export const Cdq = 119;
export const Cqo = 120;

// condition codes 0..15
export const Bt = 121;
export const Bts = 122;
export const Btr = 123;
export const Btc = 124;
export const Bsf = 125;
export const Bsr = 126;

// E0 E1 E2 order
export const Movsb = 127;
export const Movsw = 128;
export const Movsd = 129;
export const Movsq = 130;
export const Cmpsb = 131;
export const Cmpsw = 132;
export const Cmpsd = 133;
export const Cmpsq = 134;
export const Stosb = 135;
export const Stosw = 136;
export const Stosd = 137;
export const Stosq = 138;
export const Lodsb = 139;
export const Lodsw = 140;
export const Lodsd = 141;
export const Lodsq = 142;
export const Scasb = 143;
export const Scasw = 144;
export const Scasd = 145;
export const Scasq = 146;

export const Insb = 147;
export const Insw = 148;
export const Insd = 149;
export const Outsb = 150;
export const Outsw = 151;
export const Outsd = 152;
export const In = 153;
export const Out = 154;

export const Hlt = 155;
export const Monitor = 156;
export const Mwait = 157;
export const Cpuid = 158;
export const Rdtsc = 159;
export const Rdtscp = 160;
export const Rdmsr = 161;
export const Wrmsr = 162;
export const Vmcall = 163;
export const Invd = 164;
export const Wbinvd = 165;

export const Int3 = 166;
export const Int = 167;
export const Int1 = 168;
export const Iret = 169;
export const Iretd = 170;
export const Iretq = 171;
export const Lidt = 172;
export const Sidt = 173;
export const Ud2 = 174;

export const Prefetchnta = 175;
export const Prefetcht0 = 176;
export const Prefetcht1 = 177;
export const Prefetcht2 = 178;
export const Prefetch = 179;
export const Prefetchw = 180;
export const Endbr64 = 181;
export const Endbr32 = 182;

export const Xgetbv = 183;
export const Xsetbv = 184;

export const Prefetchwt1 = 185;
export const Prefetchit1 = 186;
export const Prefetchit0 = 187;
export const Cldemote = 188;
export const Rdsspd = 189;
export const Rdsspq = 190;

export const MNEMONIC_COUNT = 191;
