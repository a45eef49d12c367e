export async function main(k: number) {
  return k
}
