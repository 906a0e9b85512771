// `exitscope gallery [ID]`: the built-in scenarios, listed, or one of them as a document.
import { stringifyDocument } from '../model/scenario/document';
import { GALLERY, galleryEntry } from '../model/scenario/gallery';
import { didYouMean } from '../model/scenario/suggest';
import { EXIT_BAD_INPUT, EXIT_OK, type Io } from './main';

export async function galleryCommand(id: string | undefined, io: Io): Promise<number> {
  if (id === undefined) {
    const width = Math.max(...GALLERY.map((e) => e.id.length));
    for (const e of GALLERY) io.out(`${e.id.padEnd(width)}  ${String(e.doc.title)}\n`);
    io.out(`\n${GALLERY.length} scenarios. \`exitscope gallery ID > ID.json\` writes one out; \`exitscope run ID.json\` runs it.\n`);
    return EXIT_OK;
  }
  // An exact id, or the start of exactly one ("hlt-h3").
  const starts = GALLERY.filter((g) => g.id.startsWith(id));
  const e = galleryEntry(id) ?? (starts.length === 1 ? starts[0] : undefined);
  if (!e && starts.length > 1) {
    io.err(`exitscope: "${id}" could be any of: ${starts.map((g) => g.id).join(', ')}\n`);
    return EXIT_BAD_INPUT;
  }
  if (!e) {
    io.err(`exitscope: no scenario "${id}" in the gallery${didYouMean(id, GALLERY.map((g) => g.id))}\n`);
    return EXIT_BAD_INPUT;
  }
  io.out(stringifyDocument(e.doc));
  return EXIT_OK;
}
