// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_lines: where a BPF program's time goes, by source line, from perf samples of its JITed
 * code. perf on this machine cannot annotate BPF (no libopcodes) and bpftool cannot dump JITed
 * code (no libbfd), but the kernel keeps, for every program loaded with BTF, the address of the
 * JITed code of each source line (jited_line_info) and the line's text (line_info, in its BTF):
 * this reads both and counts the samples on stdin by line.
 *
 *   perf record -a -o perf.data -- sleep 3        (while the program is under load)
 *   perf script -i perf.data -F ip,sym,symoff | bpf_lines PROG_ID [TOP]
 *
 * Input lines "ADDRESS bpf_prog_TAG_NAME+0xOFF" (other symbols are skipped; without the
 * address, the offset is taken from the function's start). Prints the TOP (default
 * 25) source lines by samples: share, samples, file:line and the line's text; then the share
 * of samples that fell in the program at all. First, the program's size: instructions after
 * the verifier's rewrites, JITed bytes, and the instructions the verifier walked to accept it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

struct line {
	uint64_t addr;
	uint32_t insn_off, file_off, text_off, line, func;
	uint64_t samples;
};

static int by_addr(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int by_samples(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->samples > y->samples ? -1 : x->samples < y->samples;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), nlines, nfuncs, nksyms, id;
	struct bpf_line_info *li;
	struct bpf_func_info *fi;
	struct line *lines;
	uint64_t *jited, *ksyms, total = 0, in_prog = 0, unplaced = 0;
	struct btf *btf;
	char buf[512];
	int fd, top = argc > 2 ? atoi(argv[2]) : 25;

	if (argc < 2) {
		fprintf(stderr, "usage: perf script -F ip,sym,symoff | bpf_lines PROG_ID [TOP]\n");
		return 2;
	}
	id = strtoul(argv[1], NULL, 0);
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		perror("bpf_lines: program");
		return 1;
	}
	/* The sizes the verifier and the JIT saw: what a change to the program moves first. */
	printf("program %u %s: %u instructions, %u bytes JITed, %u instructions verified\n", id,
	       info.name, info.xlated_prog_len / 8, info.jited_prog_len, info.verified_insns);
	nlines = info.nr_line_info;
	nfuncs = info.nr_func_info;
	nksyms = info.nr_jited_ksyms;
	if (!nlines || info.nr_jited_line_info != nlines || !info.btf_id) {
		fprintf(stderr, "bpf_lines: program %u has no line info (loaded without BTF?)\n",
			id);
		return 1;
	}
	li = calloc(nlines, sizeof(*li));
	jited = calloc(nlines, sizeof(*jited));
	fi = calloc(nfuncs ? nfuncs : 1, sizeof(*fi));
	ksyms = calloc(nksyms ? nksyms : 1, sizeof(*ksyms));
	lines = calloc(nlines, sizeof(*lines));
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nlines;
	info.line_info_rec_size = sizeof(*li);
	info.line_info = (uintptr_t)li;
	info.nr_jited_line_info = nlines;
	info.jited_line_info_rec_size = sizeof(*jited);
	info.jited_line_info = (uintptr_t)jited;
	info.nr_func_info = nfuncs;
	info.func_info_rec_size = sizeof(*fi);
	info.func_info = (uintptr_t)fi;
	info.nr_jited_ksyms = nksyms;
	info.jited_ksyms = (uintptr_t)ksyms;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		perror("bpf_lines: line info");
		return 1;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf) {
		perror("bpf_lines: BTF");
		return 1;
	}
	for (uint32_t i = 0; i < nlines; i++) {
		uint32_t f = 0;

		/* The function a line belongs to: the last one starting at or before it. */
		while (f + 1 < nfuncs && fi[f + 1].insn_off <= li[i].insn_off)
			f++;
		lines[i] = (struct line){ .addr = jited[i],
					  .func = f,
					  .insn_off = li[i].insn_off,
					  .file_off = li[i].file_name_off,
					  .text_off = li[i].line_off,
					  .line = BPF_LINE_INFO_LINE_NUM(li[i].line_col) };
	}
	qsort(lines, nlines, sizeof(*lines), by_addr);

	while (fgets(buf, sizeof(buf), stdin)) {
		char *sym = strstr(buf, "bpf_prog_"), *plus, *name, *end;
		uint64_t off, addr = strtoull(buf, &end, 16);
		uint32_t func = 0, best = nlines;

		total++;
		if (!sym || !(plus = strstr(sym, "+0x")))
			continue;
		if (end > sym) /* no address before the symbol */
			addr = 0;
		*plus = 0;
		off = strtoull(plus + 3, NULL, 16);
		/* bpf_prog_TAG_NAME: NAME is the function (the program's, or a subprogram's). */
		name = strchr(sym + 9, '_');
		name = name ? name + 1 : sym;
		for (uint32_t f = 0; f < nfuncs && f < nksyms; f++) {
			const struct btf_type *t = btf__type_by_id(btf, fi[f].type_id);

			if (t && !strcmp(btf__name_by_offset(btf, t->name_off), name))
				func = f;
		}
		if (!addr && nksyms)
			addr = ksyms[func] + off;
		in_prog++;
		/* The last line of that function whose code starts at or before ADDR (a
		 * subprogram's code may lie anywhere: only its own lines count). */
		for (uint32_t i = 0; i < nlines && lines[i].addr <= addr; i++)
			if (lines[i].func == func)
				best = i;
		if (best < nlines)
			lines[best].samples++;
		else
			unplaced++;
	}
	/* Lines whose code is split in pieces count once per piece: merge by file and line. */
	for (uint32_t i = 0; i < nlines; i++)
		for (uint32_t j = i + 1; j < nlines && lines[i].samples; j++)
			if (lines[j].line == lines[i].line &&
			    lines[j].file_off == lines[i].file_off) {
				lines[i].samples += lines[j].samples;
				lines[j].samples = 0;
			}
	qsort(lines, nlines, sizeof(*lines), by_samples);
	printf("%6s %8s  %-28s %s\n", "share", "samples", "file:line", "source");
	for (int i = 0; i < top && i < (int)nlines && lines[i].samples; i++) {
		const char *file = btf__name_by_offset(btf, lines[i].file_off);
		const char *text = btf__name_by_offset(btf, lines[i].text_off);
		const char *base = file ? strrchr(file, '/') : NULL;
		char where[64];

		snprintf(where, sizeof(where), "%s:%u",
			 base	? base + 1
			 : file ? file
				: "?",
			 lines[i].line);
		while (text && (*text == ' ' || *text == '\t'))
			text++;
		printf("%5.1f%% %8llu  %-28s %.90s\n",
		       in_prog ? 100.0 * lines[i].samples / in_prog : 0,
		       (unsigned long long)lines[i].samples, where, text ? text : "");
	}
	printf("samples in the program: %llu of %llu (%.1f%%); before its first line (the JIT's "
	       "prologue): %llu\n",
	       (unsigned long long)in_prog, (unsigned long long)total,
	       total ? 100.0 * in_prog / total : 0, (unsigned long long)unplaced);
	btf__free(btf);
	return 0;
}
