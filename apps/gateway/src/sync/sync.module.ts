import { Module } from '@nestjs/common';

/** Placeholder: filled by the sync work. Imported by AppModule. */
@Module({})
export class SyncModule {}
