/** "text/event-stream; charset=utf-8" → "text/event-stream"; "" when there is none. */
export function mediaType(contentType: string | null): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}
