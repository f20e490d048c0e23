package hello

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Message is what the hello-world program prints, after Docker's hello-world.
const Message = "\nHello from Berth!\n" +
	"This message shows that your installation appears to be working correctly.\n" +
	"\n" +
	"To generate this message, Berth took the following steps:\n" +
	" 1. The Berth client contacted the Berth daemon.\n" +
	" 2. The Berth daemon found the \"hello-world\" image, built into berth (no download needed).\n" +
	" 3. The Berth daemon created a new container from that image which runs the\n" +
	"    executable that produced the output you are currently reading.\n" +
	" 4. The Berth daemon streamed that output to the Berth client, which sent it\n" +
	"    to your terminal.\n" +
	"\n" +
	"To try something more ambitious, you can run a shell with:\n" +
	" $ berth run -it busybox sh\n" +
	"\n" +
	"For more examples and ideas, visit:\n" +
	" https://docs.docker.com/get-started/\n" +
	"\n"

const (
	baseAddr = 0x400000
	ehdrSize = 64 // sizeof(elf.Header64)
	phdrSize = 56 // sizeof(elf.Prog64)
	codeOff  = ehdrSize + phdrSize
)

// Binary returns a static Linux ELF executable for goarch ("amd64" or "arm64")
// that writes Message to stdout and exits 0. It needs no libc, so the image
// holding it is a single file. The bytes are the same on every call.
func Binary(goarch string) ([]byte, error) {
	msgAddr := func(codeLen int) uint32 { return uint32(baseAddr + codeOff + codeLen) }
	var (
		machine elf.Machine
		align   uint64
		code    []byte
	)
	switch goarch {
	case "amd64":
		machine, align = elf.EM_X86_64, 0x1000
		code = amd64Code(msgAddr(amd64CodeLen), uint32(len(Message)))
	case "arm64":
		machine, align = elf.EM_AARCH64, 0x10000 // arm64 kernels may use 64K pages
		code = arm64Code(arm64CodeLen, uint32(len(Message)))
	default:
		return nil, fmt.Errorf("hello-world: unsupported architecture %q", goarch)
	}

	size := uint64(codeOff + len(code) + len(Message))
	hdr := elf.Header64{
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     baseAddr + codeOff,
		Phoff:     ehdrSize,
		Ehsize:    ehdrSize,
		Phentsize: phdrSize,
		Phnum:     1,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	hdr.Ident[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)

	// One read+execute segment maps the whole file: headers, code, message.
	prog := elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Vaddr:  baseAddr,
		Paddr:  baseAddr,
		Filesz: size,
		Memsz:  size,
		Align:  align,
	}

	var buf bytes.Buffer
	buf.Grow(int(size))
	_ = binary.Write(&buf, binary.LittleEndian, &hdr) // bytes.Buffer writes cannot fail
	_ = binary.Write(&buf, binary.LittleEndian, &prog)
	buf.Write(code)
	buf.WriteString(Message)
	return buf.Bytes(), nil
}

const amd64CodeLen = 31

// amd64Code is write(1, msg, n); exit(0) as x86-64 machine code.
func amd64Code(msg, n uint32) []byte {
	c := make([]byte, 0, amd64CodeLen)
	c = append(c, 0xb8, 1, 0, 0, 0)                            // mov eax, 1 (SYS_write)
	c = append(c, 0xbf, 1, 0, 0, 0)                            // mov edi, 1 (stdout)
	c = binary.LittleEndian.AppendUint32(append(c, 0xbe), msg) // mov esi, msg
	c = binary.LittleEndian.AppendUint32(append(c, 0xba), n)   // mov edx, n
	c = append(c, 0x0f, 0x05)                                  // syscall
	c = append(c, 0xb8, 60, 0, 0, 0)                           // mov eax, 60 (SYS_exit)
	c = append(c, 0x31, 0xff)                                  // xor edi, edi
	c = append(c, 0x0f, 0x05)                                  // syscall
	return c
}

const arm64CodeLen = 8 * 4

// arm64Code is write(1, msg, n); exit(0) as AArch64 machine code; msgOff is
// the message's offset from the first instruction (it follows the code).
func arm64Code(msgOff int, n uint32) []byte {
	movz := func(rd, imm uint32) uint32 { return 0xd2800000 | (imm&0xffff)<<5 | rd }
	adr := func(rd uint32, off int32) uint32 {
		u := uint32(off)
		return 0x10000000 | (u&3)<<29 | (u>>2&0x7ffff)<<5 | rd
	}
	const svc0 = 0xd4000001
	insns := []uint32{
		movz(0, 1),              // mov x0, #1 (stdout)
		adr(1, int32(msgOff-4)), // adr x1, msg (relative to this instruction)
		movz(2, n),              // mov x2, #n
		movz(8, 64),             // mov x8, #64 (SYS_write)
		svc0,                    // svc #0
		movz(0, 0),              // mov x0, #0
		movz(8, 93),             // mov x8, #93 (SYS_exit)
		svc0,                    // svc #0
	}
	c := make([]byte, 0, arm64CodeLen)
	for _, in := range insns {
		c = binary.LittleEndian.AppendUint32(c, in)
	}
	return c
}
