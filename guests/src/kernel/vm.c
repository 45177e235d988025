/* hbft guest kernel: address spaces. Each process has its own space ID
 * and protection ID. Its map: the user program (.utext) and the gateway
 * page at their physical addresses, shared; a private data page at
 * UDATA_VA and stack pages at USTACK_VA; the kernel image at its
 * physical addresses, accessible at level 0 only. The TLB miss handler
 * inserts translations from this map (PA-RISC 1.1 ch. 3: idtlba/idtlbp,
 * iitlba/iitlbp through a space register). */
#include "kernel.h"

/* Access rights (the protection word of idtlbp/iitlbp). */
#define AR(type, pl1, pl2) (((type) << 24) | ((pl1) << 22) | ((pl2) << 20))
#define AR_DIRTY (1u << 28)
#define ACCESS_ID(id) ((id) << 1)
#define PAGE 4096u

static struct proc *owner_of(unsigned space)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].space == space)
			return &procs[i];
	return 0;
}

/* The translation of `va` in process `p`: physical address and protection
 * word; 0 if nothing is mapped there. */
static int lookup(struct proc *p, unsigned va, unsigned *pa, unsigned *prot)
{
	unsigned page = va & ~(PAGE - 1);
	if (page == (unsigned)gateway_page) {
		/* Type 4: gateway to level 0, executable at every level. */
		*pa = page;
		*prot = AR(4, 3, 0) | AR_DIRTY;
	} else if (page >= (unsigned)utext_start && page < (unsigned)utext_end) {
		/* Read/execute at level 3 only (PL1 = PL2 = 3), shared. */
		*pa = page;
		*prot = AR(2, 3, 3) | AR_DIRTY;
	} else if (page == UDATA_VA || (page >= USTACK_VA && page < USTACK_VA + USTACK_PAGES * PAGE)) {
		/* Private read/write pages, checked against the process's ID. */
		unsigned index = page == UDATA_VA ? 0 : 1 + (page - USTACK_VA) / PAGE;
		*pa = p->frames + index * PAGE;
		*prot = AR(1, 3, 3) | AR_DIRTY | ACCESS_ID(p->pid);
	} else if (page >= 0x10000 && page < (unsigned)kernel_end) {
		/* The kernel: read/write at level 0 only. */
		*pa = page;
		*prot = AR(1, 0, 0) | AR_DIRTY;
	} else {
		return 0;
	}
	*pa |= va & (PAGE - 1);
	return 1;
}

int vm_user_to_phys(struct proc *p, unsigned va, unsigned *pa)
{
	unsigned prot;
	return lookup(p, va, pa, &prot);
}

/* Handles TLB miss interruption `n` for (space, va): inserts the
 * translation; returns 0 if the process has nothing mapped there. */
int vm_fill(unsigned n, unsigned space, unsigned va)
{
	struct proc *p = owner_of(space);
	unsigned pa, prot;
	if (!p || !lookup(p, va, &pa, &prot))
		return 0;
	unsigned ppn_word = (pa >> 12) << 5;
	mtsp(1, space);
	if (n == INT_ITLB_MISS || n == INT_NA_ITLB) {
		__asm__ volatile("iitlba %0,(%%sr1,%1)" : : "r"(ppn_word), "r"(va));
		__asm__ volatile("iitlbp %0,(%%sr1,%1)" : : "r"(prot), "r"(va));
	} else {
		__asm__ volatile("idtlba %0,(%%sr1,%1)" : : "r"(ppn_word), "r"(va));
		__asm__ volatile("idtlbp %0,(%%sr1,%1)" : : "r"(prot), "r"(va));
	}
	return 1;
}
