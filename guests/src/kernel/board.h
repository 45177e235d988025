/* The hbft virtual board (docs/board.md): device registers and interrupt bits. */
#ifndef BOARD_H
#define BOARD_H

#define REG(a) (*(volatile unsigned *)(a))
#define CONSOLE_TX    REG(0xf0000000)
#define CONSOLE_RX    REG(0xf0000004)
#define POWER_OFF     REG(0xf0001000)
#define DISK_SECTOR   REG(0xf0002000)
#define DISK_DMA_ADDR REG(0xf0002004)
#define DISK_COUNT    REG(0xf0002008)
#define DISK_COMMAND  REG(0xf000200c)
#define DISK_STATUS   REG(0xf0002010)
#define DISK_CAPACITY REG(0xf0002014)
#define DISK_READ  1
#define DISK_WRITE 2
#define STATUS_DONE 2
#define STATUS_UNCERTAIN 4 /* a replica failed with the transfer outstanding: reissue it */

/* EIRR/EIEM bits: bit 0 (most significant) is the interval timer. */
#define IRQ_TIMER 0x80000000u
#define IRQ_DISK  0x40000000u

/* Interruption numbers (PA-RISC 1.1 ch. 5). */
#define INT_EXTERNAL   4
#define INT_ITLB_MISS  6
#define INT_IPROT      7
#define INT_PRIV_OP    10
#define INT_PRIV_REG   11
#define INT_DTLB_MISS  15
#define INT_NA_ITLB    16
#define INT_NA_DTLB    17
#define INT_DRIGHTS    26
#define INT_DPID       27

/* PSW bits (the system mask is the low byte). */
#define PSW_I 1
#define PSW_D 2
#define PSW_P 4
#define PSW_Q 8
#define PSW_C 0x40000

#define mfctl(n) ({ unsigned __v; __asm__ volatile("mfctl %%cr" #n ",%0" : "=r"(__v)); __v; })
#define mtctl(n, v) __asm__ volatile("mtctl %0,%%cr" #n : : "r"(v) : "memory")

#endif
