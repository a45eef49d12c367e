import { backend } from './wmill'
import './index.css'

const root = document.getElementById('root')!
async function show(): Promise<void> {
  const rows = await backend.load_rows({ n: 3 })
  root.textContent = `rows: ${JSON.stringify(rows)}`
}
show()
