/** Import ES module source text through a Blob URL, as anywidget imports a widget's `_esm`. */
export async function importSource<T = Record<string, unknown>>(source: string): Promise<T> {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return (await import(/* @vite-ignore */ url)) as T;
  } finally {
    URL.revokeObjectURL(url);
  }
}
